// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "walbridge",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "walbridge", targets: ["walbridge"]),
        .library(name: "WALBridge", targets: ["WALBridge"]),
    ],
    dependencies: [
        // Command-line parsing for the `walbridge` tool.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The logging API the libraries accept; the CLI chooses the backend.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // YAML for the configuration file.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Prometheus exposition of the bridge's metrics (lag, retained WAL, changes applied, apply latency).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Runs each command as a service: SIGTERM/SIGINT become a graceful shutdown.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .target(name: "PGClient", dependencies: ["CLibPQ"]),
        .target(name: "PGOutput"),
        .target(
            name: "WALBridge",
            dependencies: [
                "PGClient", "PGOutput",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "walbridge",
            dependencies: [
                "WALBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "decoder-bench", dependencies: ["PGOutput"], path: "bench/decoder"),
        .executableTarget(name: "window-bench", dependencies: ["PGClient"], path: "bench/window"),
        // The seeded generator the differential tester and the network fault tests share.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .executableTarget(name: "differential", dependencies: ["PGClient", "PGOutput", "TestSupport"], path: "Tests/Differential"),
        .testTarget(name: "PGOutputTests", dependencies: ["PGOutput"], exclude: ["Fixtures"]),
        .testTarget(name: "WALBridgeTests", dependencies: ["WALBridge", "PGOutput"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "WALBridge", "PGClient", "PGOutput", "walbridge", "TestSupport",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
