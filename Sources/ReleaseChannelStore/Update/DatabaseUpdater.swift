import Foundation
public import ReleaseChannelModel

/// The update commands behind `release-chan db set | promote | remove`: read the db under a lock, apply
/// one change, validate the result with the server's own rules, write it canonically and atomically.
public struct DatabaseUpdater: Sendable {
    /// What an update did.
    public enum Outcome: Sendable, Equatable {
        case created(Release)
        case changed(Release, previous: Release)
        case unchanged(Release)
        case removed([Release])
    }

    public let path: String
    /// The largest db read or written: the server's `--max-db-bytes`, so that no update writes a file
    /// the server would refuse to load.
    public let maximumBytes: Int

    /// How long to wait for another writer's lock (see ``FileLock``).
    public let lockTimeout: Duration
    /// Called once, with the lock file's path, when an update has to wait for another writer.
    public let onLockWait: @Sendable (String) -> Void

    public init(
        path: String, maximumBytes: Int = DatabaseFile.defaultMaximumBytes, lockTimeout: Duration = FileLock.defaultTimeout,
        onLockWait: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.path = path
        self.maximumBytes = maximumBytes
        self.lockTimeout = lockTimeout
        self.onLockWait = onLockWait
    }

    /// Sets the release of `release.container` on `release.channel`.
    ///
    /// With the image already stored, a digest the update leaves out is kept when its source is the
    /// stored one (or left out too), and a source left out is kept when its digest is the stored one
    /// (or left out too): they still describe that build of the image, and dropping the source would
    /// turn off the stale guard. A new digest or a new source names another build, whose other half
    /// the stored release does not know.
    ///
    /// - Parameters:
    ///   - release: The new values; `updatedAt` may be empty to mean "now, if anything changes".
    ///   - force: Skip the stale guard.
    public func set(_ release: Release, force: Bool = false) throws(UpdateError) -> Outcome {
        try Self.checkFields(of: release)
        return try self.modify { database throws(UpdateError) -> Outcome in
            guard database.channelIndex(of: release.channel) != nil else {
                throw .invalid(field: "--channel", message: "channel \(Self.quote(release.channel)) is not one of \(database.channels.joined(separator: ", "))")
            }
            var release = release
            let previous = database.release(container: release.container, channel: release.channel)
            if let previous {
                if previous.image == release.image {
                    let digestIsStored = release.digest == nil || release.digest == previous.digest
                    let sourceIsStored = release.source == nil || release.source == previous.source
                    if release.digest == nil, sourceIsStored { release.digest = previous.digest }
                    if release.source == nil, digestIsStored { release.source = previous.source }
                }
                if Self.sameContent(previous, release) { return .unchanged(previous) }
                if !force { try Self.checkNotStale(stored: previous, update: release) }
            }
            if release.updatedAt.isEmpty { release.updatedAt = Self.now() }
            database.upsert(release)
            return previous.map { .changed(release, previous: $0) } ?? .created(release)
        }
    }

    /// Copies the image, digest and source of a container from one channel to another.
    public func promote(container: String, from: String, to: String, updatedAt: String? = nil) throws(UpdateError) -> Outcome {
        try Self.check("--container", container, FieldRules.checkContainer)
        if let updatedAt { try Self.check("--updated-at", updatedAt, FieldRules.checkTimestamp) }
        return try self.modify { database throws(UpdateError) -> Outcome in
            for (flag, channel) in [("--from", from), ("--to", to)] where database.channelIndex(of: channel) == nil {
                throw .invalid(field: flag, message: "channel \(Self.quote(channel)) is not one of \(database.channels.joined(separator: ", "))")
            }
            guard let source = database.release(container: container, channel: from) else {
                throw .invalid(field: "--from", message: "container \(Self.quote(container)) has no release on channel \(Self.quote(from)) to promote")
            }
            var promoted = Release(
                container: container,
                channel: to,
                image: source.image,
                digest: source.digest,
                updatedAt: updatedAt ?? "",
                source: source.source
            )
            let previous = database.release(container: container, channel: to)
            if let previous, Self.sameContent(previous, promoted) { return .unchanged(previous) }
            if promoted.updatedAt.isEmpty { promoted.updatedAt = Self.now() }
            database.upsert(promoted)
            return previous.map { .changed(promoted, previous: $0) } ?? .created(promoted)
        }
    }

    /// Removes a container's release on one channel, or on all channels.
    public func remove(container: String, channel: String? = nil) throws(UpdateError) -> Outcome {
        try Self.check("--container", container, FieldRules.checkContainer)
        return try self.modify { database throws(UpdateError) -> Outcome in
            if let channel, database.channelIndex(of: channel) == nil {
                throw .invalid(field: "--channel", message: "channel \(Self.quote(channel)) is not one of \(database.channels.joined(separator: ", "))")
            }
            let removed = database.releases.filter { $0.container == container && (channel == nil || $0.channel == channel) }
            database.remove(container: container, channel: channel)
            return .removed(removed)
        }
    }

    // MARK: Reading, validating, writing

    /// Runs `change` on the db under the lock and writes the result unless nothing changed.
    private func modify(_ change: (inout ReleaseDatabase) throws(UpdateError) -> Outcome) throws(UpdateError) -> Outcome {
        let lock = try FileLock(for: self.path, timeout: self.lockTimeout, onWait: self.onLockWait)
        let contents: DatabaseFile.Contents
        do {
            contents = try DatabaseFile(path: self.path, maximumBytes: self.maximumBytes).load()
        } catch {
            if case .decoding(_, let decoding) = error { throw .invalidDatabase(decoding.issues) }
            if case .tooLarge(_, let size, let limit) = error { throw .tooLarge(size: size, limit: limit, written: false) }
            throw .io(error.summary)
        }
        var database = contents.database
        let outcome = try change(&database)
        if case .unchanged = outcome { return outcome }
        if case .removed(let releases) = outcome, releases.isEmpty { return outcome }
        let bytes = CanonicalEncoder.encode(database)
        guard bytes.count <= self.maximumBytes else { throw .tooLarge(size: bytes.count, limit: self.maximumBytes, written: true) }
        // The written file must pass exactly the checks the server applies on reload.
        do {
            _ = try DatabaseDecoder.decode(bytes)
        } catch {
            throw .invalidDatabase(error.issues)
        }
        do {
            try AtomicFileWriter.write(bytes, to: self.path)
        } catch {
            throw .io(error.description)
        }
        _ = consume lock
        return outcome
    }

    // MARK: Rules

    public static func checkFields(of release: Release) throws(UpdateError) {
        try Self.check("--container", release.container, FieldRules.checkContainer)
        try Self.check("--channel", release.channel, FieldRules.checkChannelName)
        try Self.check("--image", release.image, FieldRules.checkImage)
        if let digest = release.digest {
            try Self.check("--digest", digest, FieldRules.checkDigest)
            if let imageDigest = try? ImageReference(parsing: release.image).digest, imageDigest != digest {
                throw .invalid(field: "--digest", message: "digest \(digest) does not match the digest in image \(Self.quote(release.image))")
            }
        }
        if !release.updatedAt.isEmpty { try Self.check("--updated-at", release.updatedAt, FieldRules.checkTimestamp) }
        if let source = release.source {
            if let value = source.repository {
                try Self.check("--source-repository", value, FieldRules.checkRepository)
                try Self.checkRepositoryName("--source-repository", value)
            }
            if let value = source.sha { try Self.check("--source-sha", value, FieldRules.checkCommitSHA) }
            if let value = source.ref {
                try Self.check("--source-ref", value, FieldRules.checkGitRef)
                try Self.checkNoBidirectionalControls("--source-ref", value)
            }
            if let value = source.runID {
                do { try FieldRules.checkRunID(value) } catch { throw .invalid(field: "--run-id", message: error.message) }
            }
            if let value = source.actor { try Self.check("--actor", value, FieldRules.checkActor) }
        }
    }

    // The next two are the dispatch payload's rules (gitops-setup.md §4, validate-payload.sh), stricter
    // than the db's: what the update workflow refuses is refused when set or sent by hand too. The db
    // itself keeps accepting such values, so that no db that loads today fails a reload.

    /// GitHub reserves the repository names `.` and `..`.
    public static func checkRepositoryName(_ field: String, _ value: String) throws(UpdateError) {
        if let name = value.split(separator: "/", omittingEmptySubsequences: false).last, name == "." || name == ".." {
            throw .invalid(field: field, message: "repository \(Self.quote(value)) is not a valid repository: the name must not be \".\" or \"..\"")
        }
    }

    /// Bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069) make text
    /// read differently from what it is.
    public static func checkNoBidirectionalControls(_ field: String, _ value: String) throws(UpdateError) {
        if value.unicodeScalars.contains(where: { (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) }) {
            throw .invalid(field: field, message: "\(Self.quote(value)) contains a bidirectional text control character (U+202A–U+202E, U+2066–U+2069)")
        }
    }

    public static func check(_ field: String, _ value: String, _ rule: (String) throws(FieldError) -> Void) throws(UpdateError) {
        do {
            try rule(value)
        } catch {
            throw .invalid(field: field, message: error.message)
        }
    }

    /// Equal image, digest and source, and equal `updated_at` when the update names one.
    static func sameContent(_ stored: Release, _ update: Release) -> Bool {
        stored.image == update.image && stored.digest == update.digest && stored.source == update.source
            && (update.updatedAt.isEmpty || update.updatedAt == stored.updatedAt)
    }

    /// A late, older build must never overwrite a newer one from the same repository.
    static func checkNotStale(stored: Release, update: Release) throws(UpdateError) {
        // GitHub's owner and repository names are case-insensitive: `ACME/app` is `acme/app`, and must not
        // get past the guard by its spelling.
        guard let storedRun = stored.source?.runID, let updateRun = update.source?.runID,
            let repository = stored.source?.repository, let updateRepository = update.source?.repository,
            repository.lowercased() == updateRepository.lowercased()
        else { return }
        if updateRun < storedRun {
            throw .stale(
                "stale update: run_id \(updateRun) is older than the stored run_id \(storedRun) of \(repository) for \(stored.container)/\(stored.channel) (stored image \(stored.image)); use --force to override"
            )
        }
        if updateRun == storedRun, update.image != stored.image || update.digest != stored.digest {
            // Name what differs: the image, or (the same image) its digest.
            let difference =
                update.image != stored.image
                ? "to \(stored.image), not \(update.image)"
                : "\(stored.image) with digest \(Self.describe(digest: stored.digest)), not \(Self.describe(digest: update.digest))"
            throw .stale(
                "conflicting update: run_id \(updateRun) of \(repository) already set \(stored.container)/\(stored.channel) \(difference); use --force to override"
            )
        }
    }

    static func describe(digest: String?) -> String { digest ?? "none" }

    static func now() -> String {
        Date().formatted(.iso8601)
    }

    static func quote(_ value: String) -> String { FieldRules.quoted(value) }
}
