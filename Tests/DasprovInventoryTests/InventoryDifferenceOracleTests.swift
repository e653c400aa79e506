import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// The differences of issue 17 that ansible-inventory can judge. (The `!unsafe` and bytes
/// values of `31-unsafe-values` are compared by the corpus-wide `--list` test.)
@Suite("ansible-inventory oracle: inventory differences")
struct InventoryDifferenceOracleTests {
  @Test("the reserved names are ansible-core's get_reserved_names(), less 'vars'")
  func reservedNameList() async throws {
    guard let tool = await oracleTool() else { return }
    let python = (tool as NSString).deletingLastPathComponent + "/python"
    let script = "from ansible.vars.reserved import get_reserved_names\nprint('\\n'.join(sorted(get_reserved_names())))"
    let out = await Oracle.inventory(python, ["-c", script])
    try #require(out.status == 0, "\(out.stderr)")
    let theirs = Set(out.stdout.split(separator: "\n").map(String.init)).subtracting(["vars"])
    #expect(theirs == ReservedNames.all)
  }

  @Test("dasprov warns about the same reserved names as ansible-inventory")
  func reservedNameWarnings() async throws {
    guard let tool = await oracleTool() else { return }
    let oracle = await Oracle.inventory(tool, ["-i", Corpus.inventory("32-reserved-names"), "--list"])
    try #require(oracle.status == 0, "\(oracle.stderr)")
    let theirs = Set(
      oracle.stderr.split(separator: "\n").compactMap { line -> String? in
        guard let r = line.range(of: "Found variable using reserved name '") else { return nil }
        return String(line[r.upperBound...].prefix { $0 != "'" })
      })
    let warnings = try InventoryLoader.load(path: Corpus.inventory("32-reserved-names")).warnings
    let ours = Set(
      warnings.compactMap { d -> String? in
        guard let r = d.message.range(of: "reserved name '") else { return nil }
        return String(d.message[r.upperBound...].prefix { $0 != "'" })
      })
    #expect(theirs.count >= 5)
    #expect(ours == theirs)
  }

  @Test("ansible-inventory refuses a host under :children and a byte order mark; dasprov names the first and reads past the second")
  func refusals() async throws {
    guard let tool = await oracleTool() else { return }
    let dir = try TemporaryDirectory()
    let child = dir.write("child.ini", "[web]\nw1\n[x:children]\nw1\n")
    let bom = dir.write("bom.ini", "\u{FEFF}[web]\nw1\n")
    for file in [child, bom] {
      let oracle = await Oracle.inventory(tool, ["-i", file, "--list"])
      #expect(oracle.stderr.contains("Failed to parse"), "\(file): \(oracle.stderr)")
    }
    #expect(throws: DiagnosticList.self) { try InventoryLoader.load(path: child) }
    #expect(try InventoryLoader.load(path: bom).inventory.groups["web"]?.hosts == ["w1"])
  }
}
