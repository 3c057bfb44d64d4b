import ArgumentParser
import Foundation

/// Reads file versions from a git repository through one `git cat-file --batch` process: the history
/// of a db took one `git show` process per commit, most of its time.
final class GitBlobReader {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    /// Bytes read from git and not yet consumed.
    private var buffered: [UInt8] = []
    private var offset = 0

    /// Starts `git -C directory cat-file --batch`.
    init(directory: String) throws {
        self.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        self.process.arguments = ["git", "-C", directory, "cat-file", "--batch"]
        self.process.standardInput = self.input
        self.process.standardOutput = self.output
        self.process.standardError = FileHandle.standardError
        do {
            try self.process.run()
        } catch {
            FileHandleOutput.standardError("cannot run git: \(error)")
            throw ExitCode(4)
        }
    }

    deinit {
        // Closing our end of git's output too: a git still writing (an answer not read to its end)
        // gets EPIPE and exits instead of blocking on a full pipe while we wait for it.
        try? self.input.fileHandleForWriting.close()
        try? self.output.fileHandleForReading.close()
        self.process.waitUntilExit()
    }

    /// The contents of the file `object` names (e.g. `HASH:./db.json`), or nil when that commit has no
    /// such file (or has a directory there). git answers each request before it reads the next (it
    /// flushes per object without `--buffer`), so one request at a time cannot fill both pipes.
    func contents(of object: String) throws -> [UInt8]? {
        // Requests are lines: a newline in the name would be read as two requests.
        guard !object.contains("\n") else {
            FileHandleOutput.standardError("git cat-file: the path has a newline in it: \(object.debugDescription)")
            throw ExitCode(4)
        }
        do {
            try self.input.fileHandleForWriting.write(contentsOf: Array("\(object)\n".utf8))
        } catch {
            FileHandleOutput.standardError("git cat-file: cannot send a request: \(error)")
            throw ExitCode(4)
        }
        // "<hash> <type> <size>\n<contents>\n", or "<object> missing\n" (also "ambiguous").
        let header = String(decoding: try self.line(), as: UTF8.self)
        if header.hasSuffix(" missing") { return nil }
        let fields = header.split(separator: " ")
        guard fields.count == 3, let size = Int(fields[2]), size >= 0 else {
            FileHandleOutput.standardError("git cat-file: unexpected answer for \(object): \(header)")
            throw ExitCode(4)
        }
        let contents = try self.bytes(size)
        _ = try self.bytes(1)
        // A directory at the file's path in that commit: no version of the file.
        return fields[1] == "blob" ? contents : nil
    }

    private func line() throws -> ArraySlice<UInt8> {
        while true {
            if let end = self.buffered[self.offset...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { self.offset = end + 1 }
                return self.buffered[self.offset..<end]
            }
            try self.fill()
        }
    }

    private func bytes(_ count: Int) throws -> [UInt8] {
        while self.buffered.count - self.offset < count { try self.fill() }
        defer { self.offset += count }
        return Array(self.buffered[self.offset..<self.offset + count])
    }

    /// Appends what git has written next, dropping what was consumed.
    private func fill() throws {
        if self.offset > 0 {
            self.buffered.removeFirst(self.offset)
            self.offset = 0
        }
        // `availableData` returns what one read(2) gets; `read(upToCount:)` waits for the whole count.
        let data = self.output.fileHandleForReading.availableData
        guard !data.isEmpty else {
            FileHandleOutput.standardError("git cat-file ended before its answer was complete")
            throw ExitCode(4)
        }
        self.buffered.append(contentsOf: data)
    }
}
