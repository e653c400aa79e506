import DasprovCore
import DasprovInventory
import FuzzDriver

/// One input: an INI inventory. Reading it must give an inventory or diagnostics, never a trap;
/// diagnostics must render with their source line, and a parsed inventory must print as
/// `ansible-inventory --list`, `--graph` and `--host` do, and answer a host pattern.
func fuzzInventory(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  do throws(DiagnosticList) {
    let (inventory, warnings) = try InventoryLoader.parse(text: text(data, size), file: "fuzz.ini")
    _ = DiagnosticRenderer().render(warnings)
    _ = inventory.ansibleListJSON()
    _ = inventory.ansibleGraph()
    if let host = inventory.hosts.first { _ = inventory.hostVarsJSON(host.name) }
    _ = try? inventory.hosts(matching: "all:!ungrouped")
  } catch {
    _ = DiagnosticRenderer().render(error.diagnostics)
  }
  return 0
}

@main enum Main {
  static func main() { runFuzzer(fuzzInventory) }
}
