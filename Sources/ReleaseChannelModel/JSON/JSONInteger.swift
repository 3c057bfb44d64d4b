/// Reads the digits of a non-negative JSON integer in place, for the decoders that read a db's bytes
/// without a JSON tree.
enum JSONInteger {
    /// The integer whose digits start at `position` (no sign, no leading zero, fits `Int64`), with
    /// `position` moved past them; nil otherwise (`position` is then somewhere among the digits).
    /// What follows the digits is the caller's to check.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, at position: inout Int) -> Int64? {
        let start = position
        var value: Int64 = 0
        while position < bytes.count, FieldRules.isDigit(bytes[position]) {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(bytes[position] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            position += 1
        }
        let digits = position - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        return value
    }
}
