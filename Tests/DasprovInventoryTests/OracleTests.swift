import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// Each corpus case is a directory `Corpus/NAME/` holding `hosts.ini` and, when the case needs
/// them, `group_vars/` and `host_vars/`.
enum Corpus {
  static let root: URL = Bundle.module.url(forResource: "Corpus", withExtension: nil)!

  static var cases: [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.filter { !$0.hasPrefix(".") }.sorted()
  }

  static func inventory(_ name: String) -> String {
    root.appendingPathComponent(name).appendingPathComponent("hosts.ini").path
  }
}

/// Where the oracle is unavailable, every oracle test fails loudly instead of passing quietly.
func oracleTool() async -> String? {
  switch await Oracle.ready.value {
  case .success(let tool): return tool
  case .failure(let why):
    Issue.record(Comment(rawValue: why.description))
    return nil
  }
}

@Suite("ansible-inventory oracle")
struct OracleTests {
  @Test("the corpus has at least 25 inventories")
  func corpusSize() {
    #expect(Corpus.cases.count >= 25)
  }

  @Test("--list equals ansible-inventory --list for every corpus inventory")
  func listMatchesAnsible() async throws {
    guard let tool = await oracleTool() else { return }
    let cases = Corpus.cases
    let outputs = await limitedConcurrentMap(cases, width: 3) { name in
      await Oracle.inventory(tool, ["-i", Corpus.inventory(name), "--list"])
    }
    for (name, oracle) in zip(cases, outputs) {
      try #require(oracle.status == 0, "ansible-inventory failed on \(name): \(oracle.stderr)")
      // Ansible only warns on a broken source and lists an empty inventory; the corpus must be valid.
      #expect(!oracle.stderr.contains("Failed to parse"), "\(name): \(oracle.stderr)")
      let ours: Inventory
      do {
        ours = try InventoryLoader.load(path: Corpus.inventory(name)).inventory
      } catch {
        Issue.record("\(name): dasprov refused it:\n\(DiagnosticRenderer(sources: SourceFiles()).render(error.diagnostics))")
        continue
      }
      let mine = ours.ansibleListJSON()
      let expected = try #require(PyJSON.parse(oracle.stdout)?.0, "\(name): oracle JSON unreadable")
      let actual = try #require(PyJSON.parse(mine)?.0, "\(name): our JSON unreadable")
      #expect(actual == expected, "\(name): --list differs\n--- ansible\n\(oracle.stdout)\n--- dasprov\n\(mine)")
      // The shape is Python's json.dumps(sort_keys=True, indent=4), so the text matches too.
      if mine + "\n" != oracle.stdout {
        // Leave both sides on disk for a `diff`.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dasprov-inventory-diff")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? (mine + "\n").write(to: dir.appendingPathComponent("\(name).dasprov.json"), atomically: true, encoding: .utf8)
        try? oracle.stdout.write(to: dir.appendingPathComponent("\(name).ansible.json"), atomically: true, encoding: .utf8)
        Issue.record("\(name): --list text differs (see \(dir.path))")
      }
    }
  }

  @Test("--graph equals ansible-inventory --graph", arguments: [
    "03-children-chain", "11-multi-group", "20-das", "21-empty-groups", "26-children-order",
  ])
  func graphMatchesAnsible(_ name: String) async throws {
    guard let tool = await oracleTool() else { return }
    let oracle = await Oracle.inventory(tool, ["-i", Corpus.inventory(name), "--graph"])
    try #require(oracle.status == 0, "\(oracle.stderr)")
    let ours = try InventoryLoader.load(path: Corpus.inventory(name)).inventory
    #expect(ours.ansibleGraph() + "\n" == oracle.stdout)
  }

  @Test("--graph GROUP equals ansible-inventory --graph GROUP")
  func subgraphMatchesAnsible() async throws {
    guard let tool = await oracleTool() else { return }
    let oracle = await Oracle.inventory(tool, ["-i", Corpus.inventory("20-das"), "--graph", "das"])
    try #require(oracle.status == 0, "\(oracle.stderr)")
    let ours = try InventoryLoader.load(path: Corpus.inventory("20-das")).inventory
    #expect(ours.ansibleGraph(group: "das").map { $0 + "\n" } == oracle.stdout)
  }

  @Test("--host equals ansible-inventory --host", arguments: [
    ("04-precedence-depth", "h1"), ("13-group-vars-files", "web1"), ("20-das", "das-rcv-01"),
    ("07-quoting", "q1"), ("01-basic", "lonely"),
  ])
  func hostMatchesAnsible(_ name: String, _ host: String) async throws {
    guard let tool = await oracleTool() else { return }
    let oracle = await Oracle.inventory(tool, ["-i", Corpus.inventory(name), "--host", host])
    try #require(oracle.status == 0, "\(oracle.stderr)")
    let ours = try InventoryLoader.load(path: Corpus.inventory(name)).inventory
    #expect(ours.hostVarsJSON(host).map { $0 + "\n" } == oracle.stdout)
  }

  /// Not 26-children-order: there Ansible's order depends on Python set iteration (two
  /// parents at the same level), and changes from run to run.
  @Test("hosts come in the order `ansible all --list-hosts` prints", arguments: [
    "03-children-chain", "11-multi-group", "20-das", "30-group-vars-precedence",
  ])
  func hostOrderMatchesAnsible(_ name: String) async throws {
    guard let tool = await oracleTool() else { return }
    let oracle = await Oracle.ansible(tool, ["-i", Corpus.inventory(name), "all", "--list-hosts"])
    try #require(oracle.status == 0, "\(oracle.stderr)")
    let expected = oracle.stdout.split(separator: "\n").dropFirst().map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    let ours = try InventoryLoader.load(path: Corpus.inventory(name)).inventory
    #expect(ours.hosts.map(\.name) == expected)
  }
}
