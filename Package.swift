// swift-tools-version:6.2
import PackageDescription

/// Settings shared by every target: Swift 6 language mode (strict concurrency) plus the upcoming
/// features that make each file's dependencies explicit.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "release-chan",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "release-chan", targets: ["release-chan"]),
        .executable(name: "release-chan-bench", targets: ["release-chan-bench"]),
        .library(name: "ReleaseChannelClient", targets: ["ReleaseChannelClient", "ReleaseChannelProtocol"]),
        // The building blocks, for the benchmarks package (benchmarks/) and embedders.
        .library(name: "ReleaseChannelCore", targets: ["ReleaseChannelModel", "ReleaseChannelStore", "ReleaseChannelProtocol"]),
        .library(name: "ReleaseChannelServerKit", targets: ["ReleaseChannelServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // MARK: Model: db format, validation, canonical encoding (no I/O, no networking)
        .target(
            name: "ReleaseChannelModel",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Protocol: the binary lookup protocol's frames and bodies, shared by server and SDK
        .target(
            name: "ReleaseChannelProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio")
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: C shims: libc functions Swift does not import (malloc_trim), the kernel's tcp_info
        .target(name: "CSystemShims"),
        // MARK: What both transports need of a connection beyond NIO: whether its peer takes what is
        // sent, and a cap on how many are open
        .target(
            name: "ReleaseChannelTransportSupport",
            dependencies: [
                "CSystemShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: The system zlib (zlib1g-dev), for the whole db's segmented gzip form
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // MARK: Store: immutable snapshots, atomic swap, reload coordination, file watch
        .target(
            name: "ReleaseChannelStore",
            dependencies: [
                "ReleaseChannelModel",
                "CSystemShims",
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Binary protocol transport: NIO handlers serving the lookup protocol
        .target(
            name: "ReleaseChannelTCP",
            dependencies: [
                "ReleaseChannelProtocol",
                "ReleaseChannelStore",
                "ReleaseChannelModel",
                "ReleaseChannelTransportSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: HTTP transport: routes, caching headers, errors, access log
        .target(
            name: "ReleaseChannelHTTP",
            dependencies: [
                "ReleaseChannelStore",
                "ReleaseChannelTransportSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Server wiring: configuration, lifecycle, reload triggers, metrics backend
        .target(
            name: "ReleaseChannelServer",
            dependencies: [
                "ReleaseChannelHTTP",
                "ReleaseChannelProtocol",
                "ReleaseChannelTCP",
                "ReleaseChannelStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: CLI: `release-chan serve`, `release-chan db …`
        .executableTarget(
            name: "release-chan",
            dependencies: [
                "ReleaseChannelModel",
                "ReleaseChannelServer",
                "ReleaseChannelClient",
                "ReleaseChannelProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Swift client SDK (binary protocol); must never depend on the HTTP server stack
        .target(
            name: "ReleaseChannelClient",
            dependencies: [
                "ReleaseChannelProtocol",
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Clients/Swift/Sources/ReleaseChannelClient",
            swiftSettings: swiftSettings
        ),

        // MARK: Load generator (`release-chan-bench tcp|http`)
        .executableTarget(
            name: "release-chan-bench",
            dependencies: [
                "ReleaseChannelModel",
                "ReleaseChannelProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "release-chan-example",
            dependencies: ["ReleaseChannelClient"],
            path: "Clients/Swift/Examples/LookupExample",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(
            name: "ReleaseChannelTestSupport",
            dependencies: [
                "ReleaseChannelModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Tests/ReleaseChannelTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReleaseChannelModelTests",
            dependencies: ["ReleaseChannelModel", "ReleaseChannelTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReleaseChannelClientTests",
            dependencies: [
                "ReleaseChannelClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            path: "Clients/Swift/Tests/ReleaseChannelClientTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReleaseChannelStoreTests",
            dependencies: [
                "ReleaseChannelStore",
                "ReleaseChannelModel",
                "ReleaseChannelTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReleaseChannelServerTests",
            dependencies: [
                "ReleaseChannelServer",
                "ReleaseChannelHTTP",
                "ReleaseChannelTCP",
                "ReleaseChannelTransportSupport",
                "ReleaseChannelStore",
                "ReleaseChannelModel",
                "ReleaseChannelClient",
                "ReleaseChannelTestSupport",
                "release-chan",
                "release-chan-bench",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
