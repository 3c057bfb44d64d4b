import ArgumentParser
import Foundation
import ReleaseChannelModel
import ReleaseChannelStore

/// `release-chan db history CONTAINER [CHANNEL]`
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show who changed a container's releases, when, and to what, from the db file's git history.",
        discussion: "Newest first. Exit status: 0 shown, 1 invalid input, an unknown channel or a container with no release in those commits, 4 git or the file cannot be read, or no commit has it."
    )

    @OptionGroup var file: DatabaseFileOptions

    @Argument(help: "Container name.")
    var container: String

    @Argument(help: "Only this channel.")
    var channel: String?

    @Option(parsing: .unconditional, help: "Look at most this many commits back.")
    var limit: Int = 200

    func validate() throws {
        guard self.limit >= 1 else { throw ValidationError("--limit must be at least 1, not \(self.limit)") }
    }

    struct Commit {
        let hash: String
        let author: String
        let date: String
        let subject: String
    }

    func run() throws {
        do {
            try FieldRules.checkContainer(self.container)
        } catch {
            throw ValidationError(error.message)
        }
        // The history of a symlinked db is its target's: the link's own history is one commit of a path.
        let url = URL(fileURLWithPath: AtomicFileWriter.followingSymlink(self.file.path))
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let log = try Self.git(["-C", directory, "log", "-n", String(self.limit), "--format=%H%x1f%an%x1f%aI%x1f%s", "--", name])
        let commits = log.split(separator: "\n").compactMap { line -> Commit? in
            let fields = line.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4 else { return nil }
            return Commit(hash: fields[0], author: fields[1], date: fields[2], subject: fields[3])
        }
        guard !commits.isEmpty else {
            let exists = FileManager.default.fileExists(atPath: url.path)
            FileHandleOutput.standardError("\(self.file.path): \(exists ? "no commit of its git repository has this file" : "no such file, and no commit of its git repository has one")")
            throw ExitCode(4)
        }
        let blobs = try GitBlobReader(directory: directory)
        var previous: [String: Release] = [:]
        var lines: [String] = []
        var channels = Set<String>()
        var seen = false
        var undecodable: [String] = []
        for commit in commits.reversed() {
            // A commit that deleted the file has no version of it: what it had is removed.
            var current: [String: Release] = [:]
            if let bytes = try blobs.contents(of: "\(commit.hash):./\(name)") {
                guard let database = try? DatabaseDecoder.decode(bytes) else {
                    undecodable.append(String(commit.hash.prefix(8)))
                    continue
                }
                channels.formUnion(database.channels)
                for release in database.releases where release.container == self.container && (self.channel == nil || release.channel == self.channel) {
                    current[release.channel] = release
                }
            }
            seen = seen || !current.isEmpty
            for channel in Set(previous.keys).union(current.keys).sorted() {
                let before = previous[channel]
                let after = current[channel]
                guard before != after else { continue }
                let change: String
                switch (before, after) {
                case (nil, let after?): change = "\(after.image) (new)"
                case (let before?, nil): change = "removed (was \(before.image))"
                case (let before?, let after?): change = before.image == after.image ? "\(after.image) (metadata)" : "\(after.image) (was \(before.image))"
                default: continue
                }
                lines.append("\(commit.date)  \(commit.hash.prefix(8))  \(commit.author)  \(channel)  \(change)  — \(commit.subject)")
            }
            previous = current
        }
        if !undecodable.isEmpty {
            FileHandleOutput.standardError("skipped \(undecodable.count) commits whose db is not valid: \(undecodable.joined(separator: ", "))")
        }
        if let channel = self.channel, !channels.isEmpty, !channels.contains(channel) {
            FileHandleOutput.standardError("unknown channel \"\(channel)\" (channels in the last \(commits.count) commits: \(channels.sorted().joined(separator: ", ")))")
            throw ExitCode(1)
        }
        guard seen else {
            FileHandleOutput.standardError("container \"\(self.container)\" has no release\(self.channel.map { " on channel \"\($0)\"" } ?? "") in the last \(commits.count) commits of \(self.file.path)")
            throw ExitCode(1)
        }
        for line in lines.reversed() { FileHandleOutput.standardOutput(line) }
    }

    static func git(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            FileHandleOutput.standardError("cannot run git: \(error)")
            throw ExitCode(4)
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            FileHandleOutput.standardError("git \(arguments.dropFirst(2).first ?? ""): \(String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
            throw ExitCode(4)
        }
        return String(decoding: data, as: UTF8.self)
    }
}
