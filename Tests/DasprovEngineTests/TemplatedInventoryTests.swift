import DasprovCore
import Foundation
import Testing

@testable import DasprovEngine

/// The engine sees inventory values rendered as Ansible renders them; `inventory` sees them as
/// written, as ansible-inventory prints them.
@Suite struct TemplatedInventoryTests {
  private func inventory(_ text: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dasprov-templated-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent("hosts.ini").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func hostsGetTemplatedValuesAndTheInventoryKeepsTheText() throws {
    let path = try inventory("[mysql]\ndb1 ansible_host=10.0.0.9\n[receivers]\nr1\n[receivers:vars]\ndb_host={{ hostvars[groups['mysql'][0]].ansible_host }}\ndb_port={{ 3300 + 6 }}\n")
    let workspace = try Workspace.load(inventory: path, root: nil, playbook: nil, limit: nil, reporting: Reporting())
    let r1 = try #require(workspace.world.host("r1"))
    #expect(r1.vars["db_host"] == "10.0.0.9")
    #expect(r1.vars["db_port"] == 3306)
    #expect(workspace.inventory.hostVarsJSON("r1")?.contains("{{ hostvars[groups['mysql'][0]].ansible_host }}") == true)
    let raw = try Workspace.load(inventory: path, root: nil, playbook: nil, limit: nil, templated: false, reporting: Reporting())
    #expect(raw.world.host("r1")?.vars["db_port"] == "{{ 3300 + 6 }}")
  }

  @Test func anUndefinedNameStopsLoadingButNotTheInventoryListing() throws {
    let path = try inventory("r1 db_host=\"{{ db_hots }}\"\n")
    #expect(throws: DiagnosticList.self) { try Workspace.load(inventory: path, root: nil, playbook: nil, limit: nil, reporting: Reporting()) }
    #expect(try Workspace.load(inventory: path, root: nil, playbook: nil, limit: nil, templated: false, reporting: Reporting()).world.hosts.count == 1)
  }
}
