// swift-tools-version:6.2
import PackageDescription

/// Settings every Provision target shares: Swift 6 mode (strict concurrency) plus the upcoming features the
/// house style asks for, so `any`, imports and visibility are explicit everywhere.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A system library reached through pkg-config, with the Debian package that provides it.
func shim(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let package = Package(
    name: "Provision",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "provision", targets: ["ProvisionCLI"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // swift-configuration support is a default trait we do not use; leaving it out saves build time.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // System-library shims: module map + pkg-config + the apt package that provides each.
        shim("CPcap", pkgConfig: "libpcap", apt: "libpcap-dev"),
        shim("CLDNS", pkgConfig: "ldns", apt: "libldns-dev"),
        shim("CSMBClient", pkgConfig: "smbclient", apt: "libsmbclient-dev"),
        shim("COpenSSL", pkgConfig: "libcrypto", apt: "libssl-dev"),
        shim("CSQLite", pkgConfig: "sqlite3", apt: "libsqlite3-dev"),
        // Linux system calls Glibc does not wrap (openat2 for the TFTP root's confinement); header only.
        .systemLibrary(name: "CLinuxShims", path: "Sources/CLinuxShims"),

        .target(
            name: "StrictYAML",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Net",
            dependencies: [
                "CLinuxShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["TFTP/README.md", "DHCP/README.md", "DNS/README.md"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OSIS",
            dependencies: [
                "CSQLite", "CLinuxShims",
                // The etcd backend's small HTTP/1.1 client for etcd's JSON gateway (see docs/PERFORMANCE.md).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Workflow",
            dependencies: [
                "StrictYAML", "OSIS", "CLinuxShims", .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // PostgreSQL views, kept apart so that OSIS itself (and everything built on it) needs no TLS stack.
        .target(
            name: "OSISPostgres",
            dependencies: ["OSIS", .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Provision",
            dependencies: [
                "Net", "OSIS", "OSISPostgres", "Workflow", "StrictYAML",
                "CPcap", "CLDNS", "CSMBClient", "COpenSSL", "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ProvisionCLI",
            dependencies: [
                "Provision", "StrictYAML", "Workflow",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Writes objects until killed; the OSIS crash test SIGKILLs it and checks what it acknowledged.
        .executableTarget(name: "osis-crash-writer", dependencies: ["OSIS", "CLinuxShims"], path: "Tests/CrashWriter", swiftSettings: swiftSettings),
        // Throughput and view-lag benchmark of the OSIS backends: `swift run -c release osis-bench`.
        .executableTarget(name: "osis-bench", dependencies: ["OSIS"], path: "Benchmarks/OSISBench", swiftSettings: swiftSettings),
        // The TFTP benchmark's windowed read client (atftp cannot keep up with large windows): `scripts/bench-tftp.sh`.
        .executableTarget(name: "tftp-fetch", path: "Benchmarks/TFTPFetch", swiftSettings: swiftSettings),

        // What the three libFuzzer targets below share: the hand-over to libFuzzer, or the replay of crashers.
        .target(name: "FuzzDriver", path: "Tests/Fuzz/Driver", swiftSettings: swiftSettings),

        // libFuzzer target over the TFTP packet round trip: `scripts/fuzz.sh tftp SECONDS`.
        .executableTarget(
            name: "tftp-fuzz", dependencies: ["Net", "FuzzDriver", .product(name: "NIOCore", package: "swift-nio")], path: "Tests/Fuzz/TFTP",
            swiftSettings: swiftSettings),

        // libFuzzer target over the DHCP message round trip and the responder: `scripts/fuzz.sh dhcp SECONDS`.
        .executableTarget(
            name: "dhcp-fuzz", dependencies: ["Net", "FuzzDriver", .product(name: "NIOCore", package: "swift-nio")], path: "Tests/Fuzz/DHCP",
            swiftSettings: swiftSettings),

        // libFuzzer target over the DNS message round trip and the responder: `scripts/fuzz.sh dns SECONDS`.
        .executableTarget(
            name: "dns-fuzz", dependencies: ["Net", "FuzzDriver", .product(name: "NIOCore", package: "swift-nio")], path: "Tests/Fuzz/DNS",
            swiftSettings: swiftSettings),

        // 10,000 concurrent runs of a 6-step workflow: `swift run -c release workflow-bench`.
        .executableTarget(
            name: "workflow-bench", dependencies: ["Workflow", "OSIS"], path: "Benchmarks/WorkflowBench", swiftSettings: swiftSettings),

        // Shared test helpers: real-service discovery, temporary directories, running the built binary.
        .target(
            name: "TestSupport",
            dependencies: [
                "Workflow",
                // TCPProxy: cutting connections to a real service under a client's feet.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "StrictYAMLTests", dependencies: ["StrictYAML"], swiftSettings: swiftSettings),
        .testTarget(
            name: "NetTests", dependencies: ["Net", "TestSupport", "CLDNS", .product(name: "Logging", package: "swift-log")],
            exclude: ["TFTP/Golden", "DHCP/Golden", "DHCP/pxe-probe.py"], swiftSettings: swiftSettings),
        .testTarget(
            name: "OSISTests",
            dependencies: [
                "OSIS", "OSISPostgres", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkflowTests", dependencies: ["Workflow", "StrictYAML", "OSIS", "TestSupport"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProvisionTests",
            dependencies: [
                "Provision", "TestSupport", "Workflow", "OSIS",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ProvisionCLI", "osis-crash-writer", "OSIS", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
