// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for dasprov's readers of user input: the INI inventory reader, the DSL lexer
// and parser, and template compilation and rendering. A package of its own, so the main build
// never links libFuzzer; build with bench/fuzz/run.sh (which passes -sanitize=fuzzer to every
// Swift target, so the readers themselves are instrumented).
let package = Package(
  name: "dasprov-fuzz",
  dependencies: [.package(name: "dasprov", path: "../..")],
  targets: [
    .target(name: "FuzzDriver"),
    .executableTarget(name: "FuzzInventory", dependencies: ["FuzzDriver", .product(name: "DasprovReaders", package: "dasprov")], swiftSettings: settings),
    .executableTarget(name: "FuzzDSL", dependencies: ["FuzzDriver", .product(name: "DasprovReaders", package: "dasprov")], swiftSettings: settings),
    .executableTarget(name: "FuzzTemplate", dependencies: ["FuzzDriver", .product(name: "DasprovReaders", package: "dasprov")], swiftSettings: settings),
  ]
)

// libFuzzer supplies `main`; each target only defines LLVMFuzzerTestOneInput.
var settings: [SwiftSetting] { [.unsafeFlags(["-parse-as-library"])] }
