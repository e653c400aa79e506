import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// Random inventories, each read by dasprov and by `ansible-inventory`: both must refuse it, or
/// both must print the same `--list`. Opt-in (`DASPROV_FUZZ=COUNT`, `DASPROV_FUZZ_SEED=N`):
/// it costs about a second of Ansible per inventory.
@Suite("differential", .enabled(if: ProcessInfo.processInfo.environment["DASPROV_FUZZ"] != nil))
struct DifferentialTests {
  @Test("random inventories agree with ansible-inventory")
  func randomInventories() async throws {
    guard let tool = await oracleTool() else { return }
    let env = ProcessInfo.processInfo.environment
    let count = Int(env["DASPROV_FUZZ"] ?? "") ?? 50
    var rng = SplitMix(seed: UInt64(env["DASPROV_FUZZ_SEED"] ?? "") ?? 1)
    let dir = try TemporaryDirectory()
    let paths = (0..<count).map { i in dir.write("f\(i)/hosts.ini", Self.inventory(&rng)) }
    let outputs = await limitedConcurrentMap(paths, width: 3) { path in
      await Oracle.inventory(tool, ["-i", path, "--list"])
    }
    var accepted = 0
    for (path, oracle) in zip(paths, outputs) {
      let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
      let ansibleRefused = oracle.stderr.contains("Failed to parse")
      do {
        let ours = try InventoryLoader.load(path: path).inventory.ansibleListJSON() + "\n"
        #expect(!ansibleRefused, "Ansible refuses what dasprov accepts:\n\(text)\n\(oracle.stderr)")
        accepted += 1
        if !ansibleRefused { #expect(ours == oracle.stdout, "--list differs for:\n\(text)") }
      } catch {
        #expect(
          ansibleRefused,
          "dasprov refuses what Ansible accepts:\n\(text)\n\(DiagnosticRenderer(sources: SourceFiles()).render(error.diagnostics))")
      }
    }
    print("differential: \(count) inventories, \(accepted) accepted by both, \(count - accepted) refused by both")
  }

  static let groups = ["web", "db", "app", "Zed", "a_b", "das", "x-y", "ünï"]
  static let hosts = [
    "h1", "h2", "web1.example.com", "10.0.0.1", "db[1:3]", "n-[a:c]", "h1:2222", "[::1]:22",
    "s[01:10:4]", "café", "foo:bar",
  ]
  static let keys = ["x", "y", "ansible_port", "d", "ansible_host"]
  static let values = [
    "1", "1.5", "True", "true", "'q'", "\"a b\"", "[1,2]", "\"{'a': 1}\"", "None", "07", "0x1F",
    "1e3", "1,2", "-5", "yes", "/opt/x", "\"'42'\"", "{}", "...", "1j", "a=b",
  ]
  static let noise: [String] = ["[", "]", ":", "=", "#", ";", "'", "\"", " ", "\\", ",", "é", "\u{A0}"]

  static func inventory(_ rng: inout SplitMix) -> String {
    var lines: [String] = []
    for _ in 0..<rng.int(1...12) {
      switch rng.int(0...9) {
      case 0...3:
        lines.append(([rng.pick(hosts)] + (0..<rng.int(0...3)).map { _ in "\(rng.pick(keys))=\(rng.pick(values))" }).joined(separator: " "))
      case 4...5: lines.append("[\(rng.pick(groups))]")
      case 6...7:
        lines.append("[\(rng.pick(groups + ["all"])):vars]")
        for _ in 0..<rng.int(1...3) { lines.append("\(rng.pick(keys))=\(rng.pick(values))") }
      case 8:
        lines.append("[\(rng.pick(groups)):children]")
        for _ in 0..<rng.int(1...2) { lines.append(rng.pick(groups)) }
      default: lines.append(rng.pick(["# comment", "; comment", ""]))
      }
    }
    // Declare every group at the end, so most references resolve.
    for g in groups where rng.int(0...3) > 0 { lines.append("[\(g)]") }
    // A little noise, so some lines break.
    for _ in 0..<rng.int(0...2) {
      let i = rng.int(0...(lines.count - 1))
      var chars = Array(lines[i])
      chars.insert(Character(rng.pick(noise)), at: rng.int(0...chars.count))
      lines[i] = String(chars)
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// A small seeded generator, so a failing seed can be replayed.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func int(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.count))
  }
  mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}
