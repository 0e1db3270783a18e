// swift-tools-version:6.1
import PackageDescription

// The modules that keep the event loops' readiness, per-connection and per-exchange state
// (each object confined to one serial queue) are built for release without the run-time
// exclusivity checks (about 100 instructions per access to a class's stored property, some
// fifty per proxied request). Debug builds, which every test runs, keep them, and the
// compiler's static checks stay on everywhere (docs/architecture.md "Exclusivity checks").
let loopStateSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "gateway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gateway", targets: ["gateway"]),
        // For Benchmarks/ (a separate package with the micro-benchmarks).
        .library(name: "GatewayKit", targets: ["GatewayHTTP", "GatewayJOSE", "GatewayPolicy", "GatewayCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context", from: "1.0.0"),
    ],
    targets: [
        // System libraries, found with pkg-config (Debian: libcurl4-openssl-dev, libssl-dev).
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        // Linux epoll(7) declarations (part of libc; no library to link).
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),

        // Pure Swift: HTTP/1.1 request parsing, framing, path normalisation.
        .target(name: "GatewayHTTP"),
        // JOSE: base64url, strict JSON, compact JWS, JWK, EVP verification, claims.
        .target(name: "GatewayJOSE", dependencies: ["COpenSSL"]),
        // gateway.yml: typed, validated configuration and the route table.
        .target(
            name: "GatewayPolicy",
            dependencies: ["GatewayHTTP", "GatewayJOSE", .product(name: "Yams", package: "Yams")]),
        // The decision for one request: pure, no I/O.
        .target(name: "GatewayCore", dependencies: ["GatewayHTTP", "GatewayJOSE", "GatewayPolicy", "GatewayEvents"]),
        // Readiness of many descriptors through one Dispatch read source per serial queue.
        .target(name: "GatewayEvents", dependencies: ["CEpoll"], swiftSettings: loopStateSettings),
        // TLS termination on the listener (libssl), below the connection as a ClientTransport.
        .target(name: "GatewayTLS", dependencies: ["COpenSSL", "GatewayEvents", "GatewayJOSE"]),
        // libcurl multi-socket driven by Dispatch.
        .target(name: "GatewayUpstream", dependencies: ["CCurl", "GatewayHTTP", "GatewayEvents"],
                swiftSettings: loopStateSettings),
        // W3C Trace Context for each request, and the OTLP/HTTP span exporter (off the loops).
        .target(
            name: "GatewayTracing",
            dependencies: [
                "GatewayHTTP", "GatewayUpstream",
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // Listener, connections, proxy loop.
        .target(
            name: "GatewayServer",
            dependencies: [
                "GatewayHTTP", "GatewayCore", "GatewayPolicy", "GatewayUpstream", "GatewayJOSE", "GatewayEvents", "GatewayTracing", "GatewayTLS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: loopStateSettings),
        .executableTarget(
            name: "gateway",
            dependencies: [
                "GatewayServer", "GatewayCore", "GatewayPolicy", "GatewayJOSE", "GatewayHTTP", "GatewayTLS", "GatewayTracing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .target(
            name: "GatewayTestSupport",
            dependencies: ["GatewayJOSE", "GatewayHTTP"],
            path: "Tests/GatewayTestSupport"),
        .testTarget(name: "GatewayHTTPTests", dependencies: ["GatewayHTTP", "GatewayTestSupport"]),
        .testTarget(name: "GatewayJOSETests", dependencies: ["GatewayJOSE", "GatewayTestSupport"]),
        .testTarget(name: "GatewayPolicyTests", dependencies: ["GatewayPolicy", "GatewayTestSupport"]),
        .testTarget(name: "GatewayCoreTests", dependencies: ["GatewayCore", "GatewayEvents", "GatewayTestSupport"]),
        .testTarget(name: "GatewayUpstreamTests", dependencies: ["GatewayUpstream", "GatewayTestSupport"]),
        .testTarget(name: "GatewayTracingTests", dependencies: ["GatewayTracing", "GatewayTestSupport"]),
        .testTarget(name: "GatewayTLSTests", dependencies: ["GatewayTLS", "GatewayEvents", "GatewayTestSupport"]),
        // The connection layer without sockets: byte queues, timers, framing, outcomes.
        .testTarget(
            name: "GatewayServerTests",
            dependencies: ["GatewayServer", "GatewayCore", "GatewayHTTP", "GatewayUpstream", "GatewayTestSupport",
                           .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "GatewayIntegrationTests",
            dependencies: ["GatewayTestSupport", "GatewayJOSE", "GatewayHTTP"]),
    ]
)
