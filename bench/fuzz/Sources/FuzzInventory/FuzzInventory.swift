import DasprovCore
import DasprovInventory
import FuzzDriver

/// One input: an INI inventory. Reading it must give an inventory or diagnostics, never a trap;
/// diagnostics must render with their source line, and a parsed inventory must print as
/// `ansible-inventory --list`, `--graph` and `--host` do, answer a host pattern, and have its
/// values templated (or say why not).
func fuzzInventory(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = text(data, size)
  // `h[1:999999]` is a million hosts, read in linear time as Ansible reads them: slow, not wrong.
  var hosts = 0
  for line in input.split(separator: "\n") {
    let (sum, overflow) = hosts.addingReportingOverflow(rangeHosts(line))
    hosts = overflow ? Int.max : sum
  }
  guard hosts <= 20_000 else { return 0 }
  do throws(DiagnosticList) {
    let (inventory, warnings) = try InventoryLoader.parse(text: input, file: "fuzz.ini")
    _ = DiagnosticRenderer().render(warnings)
    _ = inventory.ansibleListJSON()
    _ = inventory.ansibleGraph()
    if let host = inventory.hosts.first { _ = inventory.hostVarsJSON(host.name) }
    _ = try? inventory.hosts(matching: "all:!ungrouped")
    do throws(DiagnosticList) {
      _ = try inventory.templatedHostVars()
    } catch {
      _ = DiagnosticRenderer().render(error.diagnostics)
    }
  } catch {
    _ = DiagnosticRenderer().render(error.diagnostics)
  }
  return 0
}

/// How many hosts the ranges of one line (`[a:b]`, `[a:b:step]`, `[x:z]`) could expand to, at most.
func rangeHosts(_ line: Substring) -> Int {
  var product = 1
  var rest = line[...]
  while let open = rest.firstIndex(of: "[") {
    rest = rest[rest.index(after: open)...]
    guard let close = rest.firstIndex(of: "]") else { break }
    let parts = rest[..<close].split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard parts.count >= 2 else { continue }
    var span = 1
    if let a = Int(parts[0].filter(\.isNumber).prefix(18)), let b = Int(parts[1].filter(\.isNumber).prefix(18)) {
      span = abs(b - a) + 1
    } else if let a = parts[0].unicodeScalars.first, let b = parts[1].unicodeScalars.first {
      span = abs(Int(b.value) - Int(a.value)) + 1
    }
    let (p, overflow) = product.multipliedReportingOverflow(by: span)
    product = overflow ? Int.max / 2 : p
  }
  return product
}

@main enum Main {
  static func main() { runFuzzer(fuzzInventory) }
}
