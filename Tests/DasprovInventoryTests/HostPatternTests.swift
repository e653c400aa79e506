import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

@Suite("host patterns")
struct HostPatternTests {
  static let text = """
    solo
    [receivers]
    das-rcv-01
    das-rcv-02
    [indexers]
    das-idx-01
    [analyzers]
    das-ana-01
    das-ana-02
    [presenters]
    das-pre-01
    [mysql]
    db01
    [das:children]
    receivers
    indexers
    analyzers
    presenters
    """

  static func inventory() throws -> Inventory {
    try InventoryLoader.parse(text: text, file: "patterns.ini").inventory
  }

  static let expectations: [(String, [String])] = [
    ("das-rcv-01", ["das-rcv-01"]),
    ("receivers", ["das-rcv-01", "das-rcv-02"]),
    ("receivers:analyzers", ["das-rcv-01", "das-rcv-02", "das-ana-01", "das-ana-02"]),
    ("analyzers,receivers", ["das-ana-01", "das-ana-02", "das-rcv-01", "das-rcv-02"]),
    ("das:!analyzers", ["das-rcv-01", "das-rcv-02", "das-idx-01", "das-pre-01"]),
    ("das:&receivers", ["das-rcv-01", "das-rcv-02"]),
    ("!das", ["solo", "db01"]),
    ("&mysql", ["db01"]),
    ("das-rcv-*", ["das-rcv-01", "das-rcv-02"]),
    ("*ers", ["das-rcv-01", "das-rcv-02", "das-idx-01", "das-ana-01", "das-ana-02", "das-pre-01"]),
    ("das-???-01", ["das-rcv-01", "das-idx-01", "das-ana-01", "das-pre-01"]),
    ("das-[ai]*", ["das-idx-01", "das-ana-01", "das-ana-02"]),
    ("das-[!ai]*-01", ["das-rcv-01", "das-pre-01"]),
    ("~das-(rcv|pre)", ["das-rcv-01", "das-rcv-02", "das-pre-01"]),
    ("~.*-02$", ["das-rcv-02", "das-ana-02"]),
    ("receivers[0]", ["das-rcv-01"]),
    ("receivers[-1]", ["das-rcv-02"]),
    ("das[1:3]", ["das-rcv-02", "das-idx-01", "das-ana-01"]),
    ("das[4:]", ["das-ana-02", "das-pre-01"]),
    ("das[1:0]", ["das-rcv-02"]),
    // `all` walks its children in order: ungrouped, then the top-level groups as declared.
    ("all", ["solo", "db01", "das-rcv-01", "das-rcv-02", "das-idx-01", "das-ana-01", "das-ana-02", "das-pre-01"]),
    ("ungrouped", ["solo"]),
    ("solo,solo,receivers[0]", ["solo", "das-rcv-01"]),
    ("nosuchgroup,mysql", ["db01"]),
    (" receivers , mysql ", ["das-rcv-01", "das-rcv-02", "db01"]),
  ]

  @Test("Ansible host patterns", arguments: expectations)
  func patterns(_ pattern: String, _ expected: [String]) throws {
    let inventory = try Self.inventory()
    #expect(try inventory.hosts(matching: pattern).map(\.name) == expected)
  }

  @Test("terms that match nothing are reported with a suggestion")
  func unmatched() throws {
    let m = try Self.inventory().match("recievers,mysql,!nothing")
    #expect(m.hosts.map(\.name) == ["db01"])
    #expect(m.unmatched.map(\.term) == ["recievers", "!nothing"])
    #expect(m.unmatched.first?.suggestion == "receivers")
  }

  @Test("an empty group matches without being reported")
  func emptyGroup() throws {
    let inventory = try InventoryLoader.parse(text: "[empty]\n[full]\nh\n", file: "empty-group.ini").inventory
    let m = try inventory.match("empty")
    #expect(m.hosts.isEmpty)
    #expect(m.unmatched.isEmpty)
  }

  @Test("invalid patterns throw")
  func invalid() throws {
    let inventory = try Self.inventory()
    #expect(throws: InventoryError.emptyPattern) { try inventory.hosts(matching: " , ") }
    #expect(throws: InventoryError.subscriptOutOfRange(term: "receivers[5]", hostCount: 2)) {
      try inventory.hosts(matching: "receivers[5]")
    }
    #expect(throws: InventoryError.invalidRegex(term: "~(", reason: "not a valid regular expression")) {
      try inventory.hosts(matching: "~(")
    }
  }

  @Test("patterns select the same hosts as Ansible's InventoryManager.get_hosts")
  func matchesAnsible() async throws {
    guard let tool = await oracleTool() else { return }
    let dir = try TemporaryDirectory()
    let path = dir.write("patterns.ini", Self.text)
    let patterns = Self.expectations.map(\.0)
    let script = """
      import json, sys
      from ansible.parsing.dataloader import DataLoader
      from ansible.inventory.manager import InventoryManager
      im = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
      for p in json.loads(sys.argv[2]):
          print(json.dumps([h.name for h in im.get_hosts(p)]))
      """
    let python = (tool as NSString).deletingLastPathComponent + "/python"
    let patternsJSON = "[" + patterns.map(\.jsonQuoted).joined(separator: ",") + "]"
    let out = await Oracle.inventory(python, ["-c", script, path, patternsJSON])
    try #require(out.status == 0, "\(out.stderr)")
    let lines = out.stdout.split(separator: "\n")
    try #require(lines.count == patterns.count)
    let inventory = try InventoryLoader.load(path: path).inventory
    for (pattern, line) in zip(patterns, lines) {
      let expected = PyJSON.parse(String(line))?.0
      let ours = Value.list(try inventory.hosts(matching: pattern).map { .string($0.name) })
      #expect(ours == expected, "pattern \(pattern)")
    }
  }
}
