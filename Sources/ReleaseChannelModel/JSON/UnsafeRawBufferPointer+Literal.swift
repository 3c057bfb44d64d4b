#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte comparisons for the readers of fixed layouts (a canonical file, a release's compact JSON) and
/// the lookups by name: `memcmp`, rather than a loop per byte, since they run once per key and value
/// of every release on a reload, and once per request on a lookup.
extension UnsafeRawBufferPointer {
    /// Whether the bytes at `position` are `literal`'s.
    @inlinable
    package func hasLiteral(_ literal: StaticString, at position: Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position >= 0, position + count <= self.count, let base = self.baseAddress else { return count == 0 }
        return memcmp(base + position, literal.utf8Start, count) == 0
    }

    /// Whether both hold the same bytes.
    @inlinable
    package func hasSameBytes(as other: UnsafeRawBufferPointer) -> Bool {
        guard self.count == other.count else { return false }
        guard let left = self.baseAddress, let right = other.baseAddress else { return self.count == 0 }
        return memcmp(left, right, self.count) == 0
    }
}
