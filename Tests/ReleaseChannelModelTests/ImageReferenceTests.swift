import Testing

@testable import ReleaseChannelModel

@Suite struct ImageReferenceTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    @Test(arguments: [
        "nginx",
        "nginx:1.27",
        "acme/app",
        "ghcr.io/acme/my-app:v1.4.2",
        "localhost/app",
        "localhost:5000/foo/bar:1",
        "registry.acme.internal:5000/team/app@\(digest)",
        "ghcr.io/acme/app:v1@\(digest)",
        "docker.io/library/redis:7.2-alpine",
        "a__b/c-d--e.f_g:Tag_1.0-rc",
        "[::1]:5000/app:1",
        "Registry.Example.COM/app",
    ])
    func acceptsValidReferences(reference: String) throws {
        _ = try ImageReference(parsing: reference)
    }

    @Test(arguments: [
        ("", "must not be empty"),
        ("ghcr.io/Acme/app", "must be lowercase"),
        ("my app", "path component"),
        ("ghcr.io/acme/app:", "the tag"),
        ("ghcr.io/acme/app:-bad", "the tag"),
        ("ghcr.io/acme/app@sha256:abc", "digest"),
        ("ghcr.io/acme/app@md5:\(String(repeating: "a", count: 32))", "digest"),
        ("ghcr.io//app", "empty component"),
        ("ghcr.io:99999/app", "registry"),
        ("-bad.io/app", "registry"),
        ("acme/app_", "path component"),
        ("acme/app$(id)", "path component"),
        (String(repeating: "a", count: 600), "at most 512"),
    ])
    func rejectsInvalidReferences(reference: String, message: String) {
        #expect {
            _ = try ImageReference(parsing: reference)
        } throws: { error in
            (error as? FieldError)?.message.contains(message) ?? false
        }
    }

    @Test func splitsComponents() throws {
        let reference = try ImageReference(parsing: "registry.acme.internal:5000/team/app:v2@\(Self.digest)")
        #expect(reference.registry == "registry.acme.internal:5000")
        #expect(reference.path == "team/app")
        #expect(reference.tag == "v2")
        #expect(reference.digest == Self.digest)
        let hub = try ImageReference(parsing: "acme/app")
        #expect(hub.registry == nil)
        #expect(hub.path == "acme/app")
        #expect(hub.tag == nil)
    }
}
