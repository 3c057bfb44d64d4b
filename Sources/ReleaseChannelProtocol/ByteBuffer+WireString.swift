public import NIOCore

extension ByteBuffer {
    /// Writes `str`: a u16 byte count, then the UTF-8 bytes. Longer strings are cut at 65535 bytes; every
    /// string the protocol carries is far shorter (the db limits them).
    @inlinable
    public mutating func writeWireString(_ string: String) {
        let count = min(string.utf8.count, Int(UInt16.max))
        self.writeInteger(UInt16(count))
        if count == string.utf8.count {
            self.writeString(string)
        } else {
            self.writeBytes(string.utf8.prefix(count))
        }
    }

    /// Reads `str`, requiring complete, valid UTF-8.
    public mutating func readWireString(_ field: String) throws(ProtocolError) -> String {
        guard let count = self.readInteger(as: UInt16.self) else {
            throw ProtocolError(.badRequest, "\(field): truncated string length")
        }
        guard let bytes = self.readSlice(length: Int(count)) else {
            throw ProtocolError(.badRequest, "\(field): string of \(count) bytes is truncated")
        }
        guard let string = bytes.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) else {
            throw ProtocolError(.badRequest, "\(field): not valid UTF-8")
        }
        return string
    }

    /// Reads a fixed-width integer or reports which field was cut short.
    public mutating func readWireInteger<T: FixedWidthInteger>(_ field: String, as: T.Type = T.self) throws(ProtocolError) -> T {
        guard let value = self.readInteger(as: T.self) else {
            throw ProtocolError(.badRequest, "\(field): truncated")
        }
        return value
    }

    /// Fails when bytes are left after the last field of a body.
    public func requireFullyRead(_ what: String) throws(ProtocolError) {
        guard self.readableBytes == 0 else {
            throw ProtocolError(.badRequest, "\(what): \(self.readableBytes) unexpected trailing bytes")
        }
    }
}
