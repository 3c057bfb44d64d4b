// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks (ordo-one/benchmark). A package of its own so the root package's normal build never
// builds the benchmark tooling; it depends on the root package by path.
let package = Package(
    name: "release-chan-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "release-chan", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ReleaseChannelBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ReleaseChannelCore", package: "release-chan"),
                .product(name: "ReleaseChannelClient", package: "release-chan"),
                .product(name: "ReleaseChannelServerKit", package: "release-chan"),
            ],
            path: "Benchmarks/ReleaseChannelBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        )
    ]
)
