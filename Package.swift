// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Warden",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "warden", targets: ["warden"]),
        .library(name: "WardenPolicy", targets: ["WardenPolicy"]),
        .library(name: "WardenCompiler", targets: ["WardenCompiler"]),
        .library(name: "WardenAudit", targets: ["WardenAudit"]),
        .library(name: "WardenRuntime", targets: ["WardenRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // System libraries: libseccomp (syscall tables, BPF generation) and libcap (capability names).
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        // SQLite: `warden serve`'s durable run queue and delivery ledger.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Everything between fork and exec, in C.
        .target(name: "CLauncher"),
        // Kernel facts: syscall names/numbers, groups, argument signatures, constants, capabilities.
        .target(name: "WardenKernel", dependencies: ["CSeccomp", "CCap"]),
        // The policy language: lexer, parser, AST, checker, diagnostics, lint rules, formatter.
        .target(name: "WardenPolicy", dependencies: ["WardenKernel"]),
        // Policy -> EffectivePolicy -> enforcement artifacts (BPF, caps, Landlock, mounts, exports).
        .target(name: "WardenCompiler", dependencies: ["WardenPolicy", "WardenKernel", "CSeccomp"]),
        // Append-only, hash-chained, signed audit trail.
        .target(name: "WardenAudit", dependencies: ["WardenKernel", .product(name: "Crypto", package: "swift-crypto")]),
        // The broker's protocol rules, pure and byte-level: strict HTTP/1.1 heads, body framing,
        // git push commands, placeholder scanning. No I/O, so it is fuzzed and tested alone.
        .target(name: "WardenBrokerProtocol"),
        // The credential broker: per-run CA, TLS termination, HTTP rules, secret injection.
        .target(name: "WardenBroker", dependencies: [
            "WardenBrokerProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Run identity tokens (ES256 JWTs), the issuer's keys, JWKS and discovery documents.
        .target(name: "WardenIdentity", dependencies: ["WardenKernel", .product(name: "Crypto", package: "swift-crypto")]),
        // Supervisor: launch, notify loop, network mediation, signals, timeouts.
        .target(name: "WardenRuntime", dependencies: ["WardenCompiler", "WardenAudit", "WardenKernel", "CLauncher", "CSeccomp",
                                                      "WardenBroker", "WardenIdentity"]),
        // `warden serve`: webhook authentication and parsing, launch authorization, the durable
        // run queue (SQLite), concurrency limits, the HTTP surface (SwiftNIO's HTTP/1.1).
        .target(name: "WardenServe", dependencies: [
            "WardenRuntime", "WardenCompiler", "WardenPolicy", "WardenAudit", "WardenKernel", "CSQLite",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // `warden serve --executor kubernetes`: each launch as a Job whose container runs `warden run`;
        // the pod's audit chain verified and recorded in the server's log. AsyncHTTPClient is the
        // API server's client (TLS through swift-nio-ssl).
        .target(name: "WardenKubernetes", dependencies: [
            "WardenServe", "WardenRuntime", "WardenAudit", "WardenPolicy", "WardenCompiler", "WardenKernel",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // `warden serve`'s questions to a forge's API: GitHub team membership for `by team`
        // (AsyncHTTPClient; redirects off, bounded answers and time, answers cached).
        .target(name: "WardenForgeAPI", dependencies: [
            "WardenServe", "WardenPolicy", "WardenKernel",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // The workload matrix's catalog: workloads, their tools and required accesses.
        .target(name: "WardenWorkloads", dependencies: ["WardenCompiler", "WardenPolicy"]),
        // `warden lsp`: the Language Server Protocol over stdio (diagnostics, formatting, hover, ...).
        .target(name: "WardenLanguageServer", dependencies: ["WardenPolicy", "WardenKernel"]),
        .executableTarget(
            name: "warden",
            dependencies: [
                "WardenLanguageServer", "WardenPolicy", "WardenCompiler", "WardenAudit", "WardenRuntime", "WardenKernel", "WardenWorkloads", "WardenIdentity", "WardenServe", "WardenKubernetes", "WardenForgeAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets (the seeded generator of randomized tests).
        .target(name: "WardenTestSupport", path: "Tests/WardenTestSupport"),
        .testTarget(name: "WardenKernelTests", dependencies: ["WardenKernel"]),
        .testTarget(name: "WardenPolicyTests", dependencies: ["WardenTestSupport", "WardenPolicy"], resources: [.copy("Golden")]),
        .testTarget(name: "WardenCompilerTests", dependencies: ["WardenTestSupport", "WardenCompiler", "WardenPolicy", "WardenKernel"]),
        .testTarget(name: "WardenDiffTests", dependencies: ["WardenTestSupport", "WardenCompiler", "WardenPolicy", "WardenKernel"]),
        .testTarget(name: "WardenAuditTests", dependencies: ["WardenTestSupport", "WardenAudit"], exclude: ["Fixtures"]),
        .testTarget(name: "WardenRuntimeTests", dependencies: ["WardenTestSupport", "WardenRuntime", "WardenCompiler", "WardenPolicy", "WardenBrokerProtocol"]),
        .testTarget(name: "WardenBrokerProtocolTests", dependencies: ["WardenTestSupport", "WardenBrokerProtocol"]),
        .testTarget(name: "WardenBrokerTests", dependencies: [
            "WardenBroker", "WardenBrokerProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "WardenLanguageServerTests", dependencies: ["WardenLanguageServer", "WardenPolicy"]),
        .testTarget(name: "WardenServeTests", dependencies: ["WardenTestSupport", "WardenServe", "WardenKubernetes", "WardenForgeAPI", "WardenCompiler", "WardenPolicy", "WardenAudit",
                                                           .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "WardenIdentityTests", dependencies: ["WardenIdentity"]),
        .testTarget(name: "WardenCLITests", dependencies: ["WardenTestSupport", "WardenWorkloads"], exclude: ["Workloads", "BrokerFixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
