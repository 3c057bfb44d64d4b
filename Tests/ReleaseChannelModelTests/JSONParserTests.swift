import Testing

@testable import ReleaseChannelModel

@Suite struct JSONParserTests {
    @Test func recordsLineAndColumnOfEveryValue() throws {
        let text = "{\n  \"a\": [1, \"x\"],\n    \"b\": {\"c\": null}\n}"
        let root = try JSONParser.parse(Array(text.utf8))
        guard case .object(let members) = root.value else {
            Issue.record("expected an object")
            return
        }
        #expect(root.position == JSONPosition(line: 1, column: 1))
        #expect(members[0].keyPosition == JSONPosition(line: 2, column: 3))
        #expect(members[0].value.position == JSONPosition(line: 2, column: 8))
        guard case .array(let elements) = members[0].value.value else {
            Issue.record("expected an array")
            return
        }
        #expect(elements[1].position == JSONPosition(line: 2, column: 12))
        #expect(members[1].keyPosition == JSONPosition(line: 3, column: 5))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let root = try JSONParser.parse(Array(#"["a\"b\\c\/d\n\t\u00e9\ud83d\ude80"]"#.utf8))
        guard case .array(let elements) = root.value, case .string(let value) = elements[0].value else {
            Issue.record("expected a string in an array")
            return
        }
        #expect(value == "a\"b\\c/d\n\té🚀")
    }

    @Test func keepsIntegersExact() throws {
        let root = try JSONParser.parse(Array("[9007199254740991, -3, 1.5, 2e3]".utf8))
        guard case .array(let elements) = root.value else {
            Issue.record("expected an array")
            return
        }
        guard case .integer(9_007_199_254_740_991) = elements[0].value, case .integer(-3) = elements[1].value,
            case .number(1.5) = elements[2].value, case .number(2000) = elements[3].value
        else {
            Issue.record("unexpected numbers \(elements.map(\.value))")
            return
        }
    }

    @Test(arguments: [
        ("", "document is empty", 1, 1),
        ("{\"a\": 1,}", "expected a string key", 1, 9),
        ("{\"a\": 1} x", "unexpected data after the top-level value", 1, 10),
        ("{\"a\": 1, \"a\": 2}", "duplicate key \"a\"", 1, 10),
        ("[01]", "leading zeros", 1, 3),
        ("[\"a\nb\"]", "unescaped control character", 1, 4),
        ("[\"\\ud83d\"]", "unpaired UTF-16 surrogate", 1, 9),
        ("[tru]", "expected 'true'", 1, 2),
        ("{\"a\" 1}", "expected ':'", 1, 6),
        ("[1,\n  2,\n  @]", "unexpected character '@'", 3, 3),
        ("\"abc", "unterminated string", 1, 5),
    ])
    func rejectsMalformedDocuments(text: String, message: String, line: Int, column: Int) {
        #expect {
            _ = try JSONParser.parse(Array(text.utf8))
        } throws: { error in
            guard let error = error as? JSONSyntaxError else { return false }
            return error.message.contains(message) && error.position == JSONPosition(line: line, column: column)
        }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) {
            _ = try JSONParser.parse([UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")])
        }
    }

    @Test func boundsNestingDepth() {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth + 1) + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONSyntaxError.self) { _ = try JSONParser.parse(Array(deep.utf8)) }
        let allowed = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { _ = try JSONParser.parse(Array(allowed.utf8)) }
    }
}
