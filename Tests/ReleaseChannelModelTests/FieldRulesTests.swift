import Testing

@testable import ReleaseChannelModel

@Suite struct FieldRulesTests {
    @Test(arguments: ["a", "my-app", "a1-b2", String(repeating: "x", count: 63)])
    func acceptsContainerNames(name: String) throws {
        try FieldRules.checkContainer(name)
    }

    @Test(arguments: ["", "My-App", "-app", "app-", "my_app", "my.app", String(repeating: "x", count: 64), "app;rm -rf"])
    func rejectsContainerNames(name: String) {
        #expect(throws: FieldError.self) { try FieldRules.checkContainer(name) }
    }

    /// The whole `channels` list: what a db file's decoder would refuse, with its message.
    @Test func checksChannelLists() throws {
        try FieldRules.checkChannelList(["dev", "stage", "prod"])
        try FieldRules.checkChannelList((1...16).map { "c\($0)" })
        let refused: [([String], String)] = [
            ([], "must list between 1 and 16 channels, found 0"),
            ((1...17).map { "c\($0)" }, "must list between 1 and 16 channels, found 17"),
            (["dev", "stage", "dev"], "channel \"dev\" is listed twice"),
            (["dev", ""], "channel name must not be empty"),
            (["dev", "Prod"], "channel name \"Prod\" may contain only lowercase letters, digits and '-' (a DNS-1123 label)"),
        ]
        for (names, message) in refused {
            #expect(throws: FieldError(message), "\(names)") { try FieldRules.checkChannelList(names) }
        }
    }

    @Test(arguments: ["2026-11-26T12:00:00Z", "2024-02-29T23:59:59.123456789Z", "2000-02-29T00:00:00Z"])
    func acceptsTimestamps(value: String) throws {
        try FieldRules.checkTimestamp(value)
    }

    @Test(arguments: [
        "2026-11-26 12:00:00Z", "2026-11-26T12:00:00+01:00", "2026-11-26T12:00:00", "2026-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-26T24:00:00Z", "2026-11-26T12:00:00.Z",
        "2026-11-26t12:00:00z",
    ])
    func rejectsTimestamps(value: String) {
        #expect(throws: FieldError.self) { try FieldRules.checkTimestamp(value) }
    }

    @Test func checksSourceFields() throws {
        try FieldRules.checkRepository("acme/my-app")
        try FieldRules.checkRepository("Acme-Corp/my.app_2")
        try FieldRules.checkCommitSHA(String(repeating: "a1", count: 20))
        try FieldRules.checkGitRef("refs/heads/main")
        try FieldRules.checkActor("github-actions[bot]")
        try FieldRules.checkRunID(1)
        for bad in ["acme", "acme/", "/app", "acme/app/x", "ac me/app", "-acme/app"] {
            #expect(throws: FieldError.self, "\(bad)") { try FieldRules.checkRepository(bad) }
        }
        for bad in ["ABCDEF" + String(repeating: "0", count: 34), "abc", String(repeating: "g", count: 40)] {
            #expect(throws: FieldError.self, "\(bad)") { try FieldRules.checkCommitSHA(bad) }
        }
        for bad in ["main", "refs/heads/a..b", "refs/heads/a b", "refs/heads/a~1", "refs/"] {
            #expect(throws: FieldError.self, "\(bad)") { try FieldRules.checkGitRef(bad) }
        }
        for bad in ["", "-bot", "a b", String(repeating: "a", count: 40), "$(id)"] {
            #expect(throws: FieldError.self, "\(bad)") { try FieldRules.checkActor(bad) }
        }
        #expect(throws: FieldError.self) { try FieldRules.checkRunID(0) }
        #expect(throws: FieldError.self) { try FieldRules.checkRunID(FieldRules.maximumRunID + 1) }
    }

    @Test func shortensHugeValuesInMessages() {
        let huge = String(repeating: "A", count: 10_000)
        do {
            try FieldRules.checkContainer(huge)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.count < 300)
        }
    }
}
