// swift-tools-version:6.1
// Micro-benchmarks for the gateway's hot path, with ordo-one/benchmark.
// A separate package so that the main package's `make test` never builds it:
//   make bench-micro      (= swift package --package-path Benchmarks benchmark)
import PackageDescription

let package = Package(
    name: "gateway-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "gateway", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "GatewayBench",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GatewayKit", package: "gateway"),
            ],
            path: "Benchmarks/GatewayBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
