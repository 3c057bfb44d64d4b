/// Validation of `updated_at`: RFC 3339 `date-time` restricted to UTC (`Z`), e.g. `2026-11-26T12:00:00Z`.
///
/// Restricting to UTC keeps the canonical form unambiguous: two spellings of one instant cannot both appear.
public enum RFC3339Timestamp {
    public static func validate(_ value: String) throws(FieldError) {
        let bytes = Array(value.utf8)
        // Built only on failure: this runs for every release on every reload.
        var problem: FieldError {
            FieldError("timestamp \(FieldRules.quoted(value)) must be RFC 3339 in UTC, like \"2026-11-26T12:00:00Z\"")
        }
        // YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z
        guard bytes.count >= 20, bytes.count <= 30 else { throw problem }
        func number(_ range: Range<Int>) throws(FieldError) -> Int {
            var result = 0
            for index in range {
                guard FieldRules.isDigit(bytes[index]) else { throw problem }
                result = result * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            }
            return result
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[bytes.count - 1] == UInt8(ascii: "Z")
        else { throw problem }
        let year = try number(0..<4)
        let month = try number(5..<7)
        let day = try number(8..<10)
        let hour = try number(11..<13)
        let minute = try number(14..<16)
        let second = try number(17..<19)
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count >= 22 else { throw problem }
            _ = try number(20..<(bytes.count - 1))
        }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour <= 23, minute <= 59, second <= 59
        else {
            throw FieldError("timestamp \(FieldRules.quoted(value)) is not a valid calendar date and time")
        }
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
