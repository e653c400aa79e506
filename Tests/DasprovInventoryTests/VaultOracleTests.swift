import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// The vault corpus' inventory against the real ansible-inventory, given the same vault ids.
@Suite("ansible-inventory oracle: vault")
struct VaultOracleTests {
  private var vaultIDs: [String] {
    ["default", "prod", "dev"].flatMap { ["--vault-id", "\($0)@\(VaultCorpus.path("passwords/\($0).txt"))"] }
  }

  @Test("--list with vaulted values equals ansible-inventory --list, byte for byte")
  func list() async throws {
    guard let tool = await oracleTool() else { return }
    let inventory = VaultCorpus.path("inventory/hosts.ini")
    let oracle = await Oracle.inventory(tool, ["-i", inventory, "--list"] + vaultIDs)
    try #require(oracle.status == 0, "\(oracle.stderr)")
    let ours = try InventoryLoader.load(path: inventory, vault: VaultCorpus.secrets()).inventory
    #expect(ours.ansibleListJSON() + "\n" == oracle.stdout)
  }

  @Test("--host with vaulted values equals ansible-inventory --host")
  func host() async throws {
    guard let tool = await oracleTool() else { return }
    let inventory = VaultCorpus.path("inventory/hosts.ini")
    let oracle = await Oracle.inventory(tool, ["-i", inventory, "--host", "ana1"] + vaultIDs)
    try #require(oracle.status == 0, "\(oracle.stderr)")
    let ours = try InventoryLoader.load(path: inventory, vault: VaultCorpus.secrets()).inventory
    #expect(ours.hostVarsJSON("ana1").map { $0 + "\n" } == oracle.stdout)
  }
}
