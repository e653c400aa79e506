import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

@Suite("inventory model")
struct InventoryModelTests {
  @Test("the DAS inventory: roles, group_names, merged variables")
  func das() throws {
    let reporting = Reporting()
    let inventory = try InventoryLoader.load(path: Corpus.inventory("20-das"), reporting: reporting).inventory
    #expect(inventory.groups["das"]?.children == ["receivers", "indexers", "analyzers", "presenters"])
    #expect(inventory.groups["all"]?.children == ["ungrouped", "mysql", "das"])
    let ana = try #require(inventory.host(named: "das-ana-01"))
    #expect(ana.groups == ["analyzers", "das"])
    #expect(ana.vars["das_port_offset"] == .int(1))
    #expect(ana.vars["hazelcast_port"] == .int(4000))
    #expect(ana.vars["cep_persistence"] == .string("false"))
    #expect(ana.vars["db_password"] == .string("s3cr3t#pass"))
    #expect(ana.vars["das_restart_order"] == .string("analyzers,indexers,receivers,presenters"))
    #expect(ana.vars["ansible_user"] == .string("centos"))
    #expect(inventory.host(named: "db01")?.groups == ["mysql"])
    #expect(try inventory.hosts(matching: "das").count == 7)
    // Variables named like *password* are secrets: whatever dasprov prints is masked.
    #expect(reporting.secrets.mask("pw=s3cr3t#pass") == "pw=********")
  }

  @Test("ungrouped hosts carry 'ungrouped' in group_names, as in Ansible")
  func ungroupedGroupNames() throws {
    let inventory = try InventoryLoader.parse(text: "lonely\n[g]\nh\n", file: "group-names.ini").inventory
    #expect(inventory.host(named: "lonely")?.groups == ["ungrouped"])
    #expect(inventory.host(named: "h")?.groups == ["g"])
  }

  @Test("locations and variable origins point at the source")
  func origins() throws {
    let dir = try TemporaryDirectory()
    let path = dir.write(
      "hosts.ini",
      """
      [web]
      w1 a=inline
      w2
      [web:vars]
      b=group
      c=group
      """)
    dir.write("group_vars/web.yml", "c: file\n")
    dir.write("host_vars/w2.yml", "a: hostfile\n")
    let inventory = try InventoryLoader.load(path: path).inventory
    let w1 = try #require(inventory.host(named: "w1"))
    #expect(w1.location == SourceRange(file: path, line: 2, column: 1, length: 2))
    #expect(w1.varOrigins["a"] == SourceRange(file: path, line: 2, column: 4, length: 8))
    #expect(w1.varOrigins["b"] == SourceRange(file: path, line: 5, column: 1, length: 7))
    #expect(w1.varOrigins["c"] == SourceRange(file: dir.path + "/group_vars/web.yml", line: 1, column: 1, length: 1))
    let w2 = try #require(inventory.host(named: "w2"))
    #expect(w2.vars["a"] == .string("hostfile"))
    #expect(w2.varOrigins["a"]?.file == dir.path + "/host_vars/w2.yml")
    #expect(inventory.groups["web"]?.vars == ["b": "group", "c": "file"])
    #expect(inventory.groups["web"]?.location == SourceRange(file: path, line: 1, column: 2, length: 3))
  }

  @Test("depth and priority decide conflicts; names break ties")
  func precedence() throws {
    let text = """
      [b]
      h
      [a]
      h
      [c:children]
      b
      [a:vars]
      x=a
      y=a
      [b:vars]
      x=b
      y=b
      [c:vars]
      x=c
      y=c
      z=c
      [a:vars]
      ansible_group_priority=5
      """
    let inventory = try InventoryLoader.parse(text: text, file: "precedence.ini").inventory
    // b is deeper (2) than a and c (1); a outranks c by priority.
    #expect(inventory.host(named: "h")?.vars == ["x": "b", "y": "b", "z": "c"])
    #expect(inventory.groups["b"]?.depth == 2)
    #expect(inventory.groups["a"]?.priority == 5)
    #expect(inventory.groups["a"]?.vars["ansible_group_priority"] == .int(5))
  }

  @Test("--graph for a group and an unknown group")
  func graph() throws {
    let inventory = try InventoryLoader.parse(text: "[p:children]\nc\n[c]\nh\n", file: "graph.ini").inventory
    #expect(inventory.ansibleGraph(group: "p") == "@p:\n  |--@c:\n  |  |--h")
    #expect(inventory.ansibleGraph(group: "nope") == nil)
    #expect(inventory.hostVarsJSON("h") == "{}")
    #expect(inventory.hostVarsJSON("nope") == nil)
  }
}
