import Dispatch
import Foundation
import Synchronization

/// Runs the one-pass decoder on the two halves of a large canonical-looking document at once, one of
/// them on a helper thread: decoding is about half of a reload, and a reload of a large db otherwise
/// leaves the second core idle.
///
/// The cut is a release boundary found by its canonical layout (`},\n    {`, a brace closing a release
/// and one opening the next), near the middle. That text could also stand elsewhere in a document that
/// is not canonical, so the cut is proven, not trusted: the first half is parsed from the start of the
/// document and must end exactly at the cut, right after a release; the second half starts there.
/// Both halves must be in canonical release order, across the cut too. When anything does not hold
/// (including every invalid document) the caller decodes the whole document in one pass, so the result
/// is always that of ``StreamingDatabaseDecoder``; a test checks this on split documents.
enum SplitDatabaseDecoder {
    /// What the helper thread hands back.
    private struct Half: Sendable {
        var releases: [Release]
        var spans: [Range<Int>]
        var isCanonical: Bool
        var inOrder: Bool
    }

    /// The bytes for the helper thread; the caller waits for it before they go away.
    private struct SharedBytes: @unchecked Sendable {
        let bytes: UnsafeBufferPointer<UInt8>
    }

    /// - Parameter helperThreadSetup: Run first on the helper thread (the reload gives it the builder
    ///   thread's lower priority).
    /// - Returns: nil when the document cannot be cut or a check fails: decode it in one pass.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, helperThreadSetup: (@Sendable () -> Void)?) -> DecodedDatabase? {
        guard let cut = Self.cut(bytes) else { return nil }
        let shared = SharedBytes(bytes: bytes)
        let secondHalf = Mutex<Half?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let helper = Thread {
            helperThreadSetup?()
            var scanner = DocumentScanner(bytes: shared.bytes)
            if let channels = scanner.header(), let releases = scanner.releases(channels: channels, from: cut) {
                let half = Half(releases: releases, spans: scanner.releaseSpans, isCanonical: scanner.isCanonical, inOrder: scanner.inOrder)
                secondHalf.withLock { $0 = half }
            }
            finished.signal()
        }
        helper.start()
        var scanner = DocumentScanner(bytes: bytes)
        let first = scanner.header().flatMap { channels in scanner.releases(channels: channels, until: cut).map { (channels, $0) } }
        finished.wait()
        guard let (channels, firstReleases) = first, scanner.inOrder, let second = secondHalf.withLock({ $0 }), second.inOrder,
            let last = firstReleases.last, let next = second.releases.first
        else { return nil }
        // Canonical order across the cut: the first release after it comes strictly after the last one before.
        var seam = DocumentScanner(bytes: bytes)
        seam.checkOrder(container: last.container, channel: channels.firstIndex(of: last.channel) ?? -1)
        seam.checkOrder(container: next.container, channel: channels.firstIndex(of: next.channel) ?? -1)
        guard seam.inOrder else { return nil }
        let isCanonical = scanner.isCanonical && second.isCanonical
        return DecodedDatabase(
            database: ReleaseDatabase(channels: channels, releasesInCanonicalOrder: firstReleases + second.releases),
            canonicalReleaseSpans: isCanonical ? scanner.releaseSpans + second.spans : nil
        )
    }

    /// The position of the `,` between two releases in canonical layout, searched from the middle.
    static func cut(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let pattern = Array("},\n    {\n".utf8)
        var index = bytes.count / 2
        while index + pattern.count <= bytes.count {
            guard let brace = UnsafeBufferPointer(rebasing: bytes[index...]).firstIndex(of: UInt8(ascii: "}")) else { return nil }
            let start = index + brace
            if start + pattern.count <= bytes.count, UnsafeBufferPointer(rebasing: bytes[start..<(start + pattern.count)]).elementsEqual(pattern) {
                return start + 1
            }
            index = start + 1
        }
        return nil
    }
}
