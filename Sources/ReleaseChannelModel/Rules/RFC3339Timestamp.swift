/// Validation of `updated_at`: RFC 3339 `date-time` restricted to UTC (`Z`), e.g. `2026-11-26T12:00:00Z`.
///
/// Restricting to UTC keeps the canonical form unambiguous: two spellings of one instant cannot both appear.
public enum RFC3339Timestamp {
    public static func validate(_ value: String) throws(FieldError) {
        // Built only on failure: this runs for every release on every reload.
        var problem: FieldError {
            FieldError("timestamp \(FieldRules.quoted(value)) must be RFC 3339 in UTC, like \"2026-11-26T12:00:00Z\"")
        }
        guard let fields = FieldRules.withBytes(value, Self.fields) else { throw problem }
        guard Self.isValidDateTime(fields) else {
            throw FieldError("timestamp \(FieldRules.quoted(value)) is not a valid calendar date and time")
        }
    }

    /// ``validate(_:)`` over bytes, without the message.
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        Self.fields(bytes).map(Self.isValidDateTime) ?? false
    }

    private static func isValidDateTime(_ fields: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)) -> Bool {
        (1...12).contains(fields.month) && (1...daysIn(month: fields.month, year: fields.year)).contains(fields.day)
            && fields.hour <= 23 && fields.minute <= 59 && fields.second <= 59
    }

    /// The numbers of `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, or nil when the text does not have that shape.
    private static func fields(_ bytes: UnsafeBufferPointer<UInt8>) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)? {
        guard bytes.count >= 20, bytes.count <= 30 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var result = 0
            for index in range {
                guard FieldRules.isDigit(bytes[index]) else { return nil }
                result = result * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            }
            return result
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[bytes.count - 1] == UInt8(ascii: "Z"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count >= 22, number(20..<(bytes.count - 1)) != nil else { return nil }
        }
        return (year, month, day, hour, minute, second)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
