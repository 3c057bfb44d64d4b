import Foundation
import ReleaseChannelTestSupport
import Testing

/// scripts/check-registry-image.sh against a real HTTP registry on 127.0.0.1 (FakeRegistry): the
/// update workflow's optional check that a dispatched image exists.
@Suite struct RegistryCheckTests {
    let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/check-registry-image.sh").path

    func check(_ values: [String: String]) async throws -> Subprocess.Result {
        var environment = ProcessInfo.processInfo.environment
        for name in ["RC_IMAGE", "RC_DIGEST", "RC_REGISTRY_USER", "RC_REGISTRY_TOKEN", "GITHUB_STEP_SUMMARY"] { environment.removeValue(forKey: name) }
        return try await Subprocess.run("/bin/bash", [self.script], environment: environment.merging(values) { $1 })
    }

    @Test func anImageTheRegistryHasPassesAndOneItLacksIsRefused() async throws {
        let registry = FakeRegistry()
        try await registry.run { port in
            let host = "127.0.0.1:\(port)"
            let found = try await self.check(["RC_IMAGE": "\(host)/acme/app:v1"])
            #expect(found.status == 0, "\(found.standardError)")
            #expect(found.standardOutput.contains("\(host) has acme/app:v1 (\(FakeRegistry.digest("a")))"), "\(found.standardOutput)")
            // The anonymous token was asked for the image's repository, at the service the challenge named.
            #expect(registry.tokenRequests.first == "service=fake-registry&scope=repository:acme/app:pull", "\(registry.tokenRequests)")

            let directory = try TemporaryDirectory()
            let summary = directory.file("summary.md")
            let missing = try await self.check(["RC_IMAGE": "\(host)/acme/app:v2", "GITHUB_STEP_SUMMARY": summary])
            #expect(missing.status == 1)
            #expect(missing.standardError.contains("\(host) has no image acme/app:v2 (image '\(host)/acme/app:v2'): a typo, or a push that did not happen"), "\(missing.standardError)")
            #expect(try String(contentsOfFile: summary, encoding: .utf8).contains("refused (image not in its registry)"))

            // A digest is looked up by itself: here one the registry does not have under any tag.
            let digest = try await self.check(["RC_IMAGE": "\(host)/acme/app:v1", "RC_DIGEST": FakeRegistry.digest("b")])
            #expect(digest.status == 1)
            #expect(digest.standardError.contains("has no image acme/app@\(FakeRegistry.digest("b"))"), "\(digest.standardError)")
            let pinned = try await self.check(["RC_IMAGE": "\(host)/acme/app@\(FakeRegistry.digest("a"))"])
            #expect(pinned.status == 0, "\(pinned.standardError)")
            #expect(pinned.standardOutput.contains("has acme/app@\(FakeRegistry.digest("a"))"), "\(pinned.standardOutput)")
        }
    }

    @Test func aPrivateImageNeedsTheRegistryToken() async throws {
        let registry = FakeRegistry()
        try await registry.run { port in
            let image = "127.0.0.1:\(port)/acme/private:v1"
            let anonymous = try await self.check(["RC_IMAGE": image])
            #expect(anonymous.status == 1)
            #expect(anonymous.standardError.contains("refused a pull token for acme/private"), "\(anonymous.standardError)")
            #expect(anonymous.standardError.contains("a private image needs RC_REGISTRY_TOKEN"), "\(anonymous.standardError)")
            let wrong = try await self.check(["RC_IMAGE": image, "RC_REGISTRY_USER": "bot", "RC_REGISTRY_TOKEN": "guess"])
            #expect(wrong.status == 1)
            let authorized = try await self.check(["RC_IMAGE": image, "RC_REGISTRY_USER": "bot", "RC_REGISTRY_TOKEN": "secret"])
            #expect(authorized.status == 0, "\(authorized.standardError)")
            #expect(authorized.standardOutput.contains("has acme/private:v1 (\(FakeRegistry.digest("c")))"), "\(authorized.standardOutput)")
        }
    }

    @Test func whatCannotBeAskedIsNamed() async throws {
        let closed = try ClientSDKTests.freePort()
        let unreachable = try await self.check(["RC_IMAGE": "127.0.0.1:\(closed)/acme/app:v1", "RC_REGISTRY_TIMEOUT": "5"])
        #expect(unreachable.status == 4)
        #expect(unreachable.standardError.contains("cannot ask 127.0.0.1:\(closed) for acme/app:v1"), "\(unreachable.standardError)")
        let conflicting = try await self.check(["RC_IMAGE": "ghcr.io/acme/app@\(FakeRegistry.digest("a"))", "RC_DIGEST": FakeRegistry.digest("b")])
        #expect(conflicting.status == 1)
        #expect(conflicting.standardError.contains("RC_DIGEST \(FakeRegistry.digest("b")) is not the digest in"), "\(conflicting.standardError)")
        let unset = try await self.check([:])
        #expect(unset.status == 2)
    }
}
