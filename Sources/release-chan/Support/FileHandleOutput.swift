import Foundation

/// Writes CLI output; commands print results to stdout and diagnostics to stderr.
enum FileHandleOutput {
    static func standardOutput(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
