// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "trackerd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trackerd", targets: ["trackerd"]),
        .executable(name: "localcloud", targets: ["localcloud"]),
        // localcloud's broker ACL, a plugin Mosquitto loads (liblocalcloud-broker-acl.so).
        .library(name: "localcloud-broker-acl", type: .dynamic, targets: ["CBrokerACL"]),
    ],
    // Exact versions: a build from a clean clone is the build we tested. The .deb lists them,
    // with swift-collections (theirs) and the licences, in /usr/share/doc/trackerd/.
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", exact: "1.1.4"),
        .package(url: "https://github.com/apple/swift-system", exact: "1.8.1"),
    ],
    targets: [
        // Pure Swift: no I/O, no C imports. Everything a tracker decides lives here.
        .target(name: "TrackerCore"),

        // libgps (its header from libgps-dev), opened with dlopen when a gpsd source starts (cgps.c);
        // version differences are hidden in cgps.h.
        .target(name: "CGPS", linkerSettings: [.linkedLibrary("dl")]),

        // Adapters that turn a receiver (gpsd, a UART, a recorded file) into fixes.
        .target(name: "GPSSources", dependencies: [
            "TrackerCore", "TrackerSystem", "CGPS",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        // libmosquitto from Debian's libmosquitto-dev.
        .systemLibrary(name: "CMosquitto", path: "Sources/CMosquitto", pkgConfig: "libmosquitto",
                       providers: [.apt(["libmosquitto-dev"])]),
        // A diagnostic TLS handshake with OpenSSL (libssl-dev), to name why TLS failed.
        .target(name: "CTLSProbe", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),

        // The device's keys, CSRs and certificate checks with OpenSSL (libssl-dev).
        .target(name: "CDeviceCrypto", linkerSettings: [.linkedLibrary("crypto")]),
        // Keys in a PKCS#11 token (SoftHSM2, a TPM through tpm2-pkcs11): made there, used through
        // libp11's OpenSSL engine (libengine-pkcs11-openssl); the header is libp11-kit-dev's.
        .target(name: "CTokenKey", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto"), .linkedLibrary("dl")]),
        .target(name: "TrackerCrypto", dependencies: ["CDeviceCrypto", "CTokenKey", "TrackerCore", "TrackerSystem"]),

        // Job files over HTTPS with libcurl (libcurl4-openssl-dev), resumable.
        // libcurl is opened with dlopen on the first download (see download.c): only its header is linked against.
        .target(name: "CDownload", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "TrackerDownload", dependencies: ["CDownload", "TrackerCore", "TrackerCrypto", "TrackerSystem"]),

        // localcloud: AWS IoT fleet provisioning on Mosquitto, and its certificate authority.
        .target(name: "CCertificateAuthority", linkerSettings: [.linkedLibrary("crypto")]),
        // localcloud's broker ACL: a Mosquitto 2.0 plugin (headers from mosquitto-dev); its
        // mosquitto_* calls are the broker's own, resolved when the broker loads it.
        .target(name: "CBrokerACL"),
        // localcloud's HTTPS file server for job payloads (OpenSSL).
        .target(name: "CFileServer", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // Its dashboard's page is static files (Dashboard/), copied next to the executable.
        .target(name: "LocalCloud", dependencies: [
            "TrackerCore", "TrackerCrypto", "TrackerMQTT", "TrackerStorage", "TrackerSystem", "CCertificateAuthority", "CFileServer",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ], resources: [.copy("Dashboard")]),

        // MQTT over TLS: the connection, its reconnect loop and its failure diagnosis.
        .target(name: "TrackerMQTT", dependencies: [
            "TrackerCore", "TrackerSystem", "CMosquitto", "CTLSProbe", "CTokenKey",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // First-boot fleet provisioning on the device.
        .target(name: "TrackerProvisioning", dependencies: [
            "TrackerCore", "TrackerMQTT", "TrackerStorage", "TrackerCrypto", "TrackerSystem",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // SQLite from Debian's libsqlite3-dev.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),

        // Durable state: the outbound queue's SQLite store.
        .target(name: "TrackerStorage", dependencies: [
            "TrackerCore", "TrackerSystem", "CSQLite",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        // OS services: the journal-aware log handler.
        .target(name: "TrackerSystem", dependencies: [
            "TrackerCore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        .executableTarget(name: "trackerd", dependencies: [
            "TrackerCore", "GPSSources", "TrackerSystem", "TrackerStorage", "TrackerMQTT", "TrackerProvisioning", "TrackerCrypto",
            "TrackerDownload",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The parsers of outside input under arbitrary bytes: `make fuzz` (libFuzzer) and the
        // corpus replay in `make test`.
        .target(name: "TrackerFuzzing", dependencies: ["TrackerCore"]),
        .executableTarget(name: "trackerd-fuzz", dependencies: ["TrackerFuzzing"]),

        // Benchmarks/, not shipped: the fleet simulator (`make bench-fleet`).
        .target(name: "FleetSimulation", dependencies: ["TrackerCore"], path: "Benchmarks/FleetSimulation"),
        .executableTarget(name: "fleetsim", dependencies: [
            "FleetSimulation", "TrackerCore", "TrackerMQTT", "TrackerProvisioning", "TrackerStorage",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Benchmarks/fleetsim"),

        .target(name: "CTestSupport", path: "Tests/CTestSupport", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "TestSupport", dependencies: ["CTestSupport", "TrackerCore", .product(name: "Logging", package: "swift-log"),
                                                   .product(name: "SystemPackage", package: "swift-system")],
                path: "Tests/TestSupport"),
        .executableTarget(name: "localcloud", dependencies: [
            "LocalCloud", "TrackerCore", "TrackerSystem",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        .testTarget(name: "TrackerCoreTests", dependencies: ["TrackerCore", "TestSupport"]),
        .testTarget(name: "TrackerFuzzingTests", dependencies: ["TrackerFuzzing"]),
        .testTarget(name: "FleetSimulationTests", dependencies: ["FleetSimulation", "TrackerCore"]),
        .testTarget(name: "TrackerSystemTests", dependencies: ["TrackerSystem", "TrackerCore"]),
        .testTarget(name: "GPSSourcesTests", dependencies: [
            "GPSSources", "TrackerCore", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TrackerStorageTests", dependencies: ["TrackerStorage", "TrackerCore", "TestSupport", "CSQLite"]),
        .testTarget(name: "TrackerCryptoTests", dependencies: ["TrackerCrypto", "TestSupport", "CTestSupport"]),
        .testTarget(name: "TrackerDownloadTests", dependencies: ["TrackerDownload", "LocalCloud", "TrackerSystem", "TestSupport"]),
        .testTarget(name: "LocalCloudTests", dependencies: [
            "LocalCloud", "TrackerCrypto", "TrackerProvisioning", "TrackerStorage", "TrackerMQTT", "TrackerCore", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TrackerMQTTTests", dependencies: [
            "TrackerMQTT", "TrackerCore", "TrackerCrypto", "TrackerSystem", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TrackerdTests", dependencies: ["TrackerCore", "TrackerSystem", "TrackerStorage", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
