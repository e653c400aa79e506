// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way: dasprov (CLI) → DasprovEngine → DasprovTasks →
// DasprovSSH / DasprovXML / DasprovTemplate / DasprovDSL / DasprovInventory → DasprovCore,
// and each C library is imported by exactly one Swift wrapper target.
let package = Package(
  name: "dasprov",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "dasprov", targets: ["dasprov"]),
    // The readers of user input, for the libFuzzer targets in bench/fuzz (a package of its own).
    .library(name: "DasprovReaders", targets: ["DasprovCore", "DasprovInventory", "DasprovDSL", "DasprovTemplate"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/stencilproject/Stencil", exact: "0.15.1"),
    // Hashes and Ansible Vault's AES-256-CTR, HMAC-SHA256 and PBKDF2 (none written by hand).
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    // Child processes: vault password scripts, and the tests' commands.
    .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
  ],
  targets: [
    // C libraries, each behind exactly one Swift owner.
    .systemLibrary(
      name: "CLibSSH2", pkgConfig: "libssh2",
      providers: [.apt(["libssh2-1-dev"]), .brew(["libssh2"])]),
    .systemLibrary(
      name: "CLibXML2", pkgConfig: "libxml-2.0",
      providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]),

    // Pure values shared by every layer: source locations, diagnostics, values, quoting, secrets.
    .target(name: "DasprovCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
    // Ansible-compatible INI inventories with group_vars/host_vars, and Ansible Vault.
    .target(
      name: "DasprovInventory",
      dependencies: [
        "DasprovCore", "Yams",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "_CryptoExtras", package: "swift-crypto"),
      ]),
    // The .dasp language: lexer, parser, AST, expression evaluation.
    .target(name: "DasprovDSL", dependencies: ["DasprovCore"]),
    // Stencil templates with undefined-variable checks and escaping by file kind.
    .target(name: "DasprovTemplate", dependencies: ["DasprovCore", "Stencil"]),
    // The POSIX sh programs dasprov runs on hosts (Programs/*.sh, embedded in the binary by
    // scripts/embed-programs.sh), how they are filled in, and their output's line protocol.
    .target(name: "DasprovShell", dependencies: ["DasprovCore"], exclude: ["Programs"]),
    // The only importer of libssh2.
    .target(name: "DasprovSSH", dependencies: ["DasprovCore", "DasprovShell", "CLibSSH2"]),
    // The only importer of libxml2: byte-preserving XML edits.
    .target(name: "DasprovXML", dependencies: ["DasprovCore", "CLibXML2"]),
    // Task kinds: pure plans from (desired state, facts) to changes.
    .target(
      name: "DasprovTasks",
      dependencies: ["DasprovCore", "DasprovDSL", "DasprovTemplate", "DasprovXML"]),
    // Loads projects, gathers facts, plans, applies, restarts in role order.
    .target(
      name: "DasprovEngine",
      dependencies: [
        "DasprovCore", "DasprovInventory", "DasprovDSL", "DasprovTemplate", "DasprovTasks",
        "DasprovSSH", "DasprovXML", "DasprovShell",
        // Ed25519 signatures for SSH logins, with a key parsed once per run (Ed25519Signer).
        .product(name: "Crypto", package: "swift-crypto"),
      ]),
    .executableTarget(
      name: "dasprov",
      dependencies: [
        "DasprovEngine", "DasprovInventory", "DasprovCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Subprocess", package: "swift-subprocess"),
      ]),

    // Shared by the test targets: starting programs, on swift-subprocess, with a deadline.
    .target(
      name: "DasprovTestSupport",
      dependencies: [
        .product(name: "Subprocess", package: "swift-subprocess"),
        .product(name: "SystemPackage", package: "swift-system"),
      ],
      path: "Tests/Support"),
    .testTarget(name: "DasprovTestSupportTests", dependencies: ["DasprovTestSupport"], path: "Tests/SupportTests"),

    .testTarget(name: "DasprovCoreTests", dependencies: ["DasprovCore", "DasprovTestSupport"]),
    .testTarget(name: "DasprovShellTests", dependencies: ["DasprovShell", "DasprovCore"]),
    .testTarget(
      name: "DasprovInventoryTests", dependencies: ["DasprovInventory", "DasprovCore", "DasprovTestSupport"],
      resources: [.copy("Corpus"), .copy("VaultCorpus")]),
    .testTarget(name: "DasprovDSLTests", dependencies: ["DasprovDSL", "DasprovCore"]),
    .testTarget(name: "DasprovTemplateTests", dependencies: ["DasprovTemplate", "DasprovCore"]),
    .testTarget(name: "DasprovSSHTests", dependencies: ["DasprovSSH", "DasprovCore"]),
    .testTarget(name: "DasprovXMLTests", dependencies: ["DasprovXML", "DasprovCore", "DasprovTestSupport"]),
    .testTarget(name: "DasprovTasksTests", dependencies: ["DasprovTasks", "DasprovCore", "DasprovDSL", "DasprovTestSupport"]),
    .testTarget(
      name: "DasprovEngineTests",
      dependencies: ["DasprovEngine", "DasprovCore", "DasprovShell", "DasprovTestSupport", .product(name: "Crypto", package: "swift-crypto")],
      exclude: ["Golden"]),
    // The command line: argument parsing and the error → exit code mapping.
    .testTarget(name: "DasprovCLITests", dependencies: ["dasprov", "DasprovCore"]),
    // Runs the built `dasprov` binary against the sandbox's real sshd hosts.
    .testTarget(
      name: "IntegrationTests", dependencies: ["DasprovCore", "DasprovTestSupport"],
      exclude: ["Scripts", "Fixtures"]),
  ]
)
