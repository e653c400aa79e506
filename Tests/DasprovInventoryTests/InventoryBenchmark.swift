import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// Parse-time benchmark, run by `bench/inventory/run.sh` (skipped unless `DASPROV_BENCH=1`).
///
/// Reads `DASPROV_BENCH_FILE`, or generates 10,000 hosts in 200 groups when it is unset, and
/// prints `inventory-bench` lines: best-of-5 times and the process's peak RSS (`VmHWM`).
@Suite("InventoryBenchmark", .enabled(if: ProcessInfo.processInfo.environment["DASPROV_BENCH"] == "1"))
struct InventoryBenchmark {
  @Test("parse a large inventory")
  func parseLargeInventory() throws {
    let env = ProcessInfo.processInfo.environment
    let scratch = try TemporaryDirectory()
    let path = env["DASPROV_BENCH_FILE"] ?? scratch.write("hosts.ini", Self.generate(hosts: 10_000, groups: 200))

    let baseline = Self.status("VmRSS:")
    var loadTimes: [Double] = []
    var listTimes: [Double] = []
    var json = ""
    var hostCount = 0
    var groupCount = 0
    for _ in 0..<5 {
      let start = DispatchTime.now()
      let inventory = try InventoryLoader.load(path: path).inventory
      let loaded = DispatchTime.now()
      json = inventory.ansibleListJSON()
      let listed = DispatchTime.now()
      loadTimes.append(Double(loaded.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
      listTimes.append(Double(listed.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
      hostCount = inventory.hosts.count
      groupCount = inventory.groups.count
    }
    if let out = env["DASPROV_BENCH_JSON"] { try (json + "\n").write(toFile: out, atomically: true, encoding: .utf8) }
    print("inventory-bench hosts \(hostCount) groups \(groupCount)")
    print("inventory-bench load \(String(format: "%.4f", loadTimes.min()!)) s (best of 5; median \(String(format: "%.4f", loadTimes.sorted()[2])))")
    print("inventory-bench load+list \(String(format: "%.4f", listTimes.min()!)) s (best of 5, load and --list JSON)")
    print(
      "inventory-bench peak-rss \(Self.status("VmHWM:") / 1024) MiB (VmHWM of the test process; \(baseline / 1024) MiB before loading)")
    #expect(hostCount > 0)
  }

  /// A `/proc/self/status` field in KiB (Linux only; 0 elsewhere).
  static func status(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(field) {
      return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
    return 0
  }

  /// The same shape as bench/inventory/generate.py, for runs without the script.
  static func generate(hosts: Int, groups: Int) -> String {
    var out = "[all:vars]\nansible_user=centos\n"
    let parents = max(1, groups / 10)
    let leaves = groups - parents
    let perLeaf = (hosts + leaves - 1) / leaves
    for g in 0..<leaves {
      out += "[g\(g)]\n"
      for i in (g * perLeaf)..<min(hosts, (g + 1) * perLeaf) {
        out += "host-\(i).example.com ansible_host=10.\(i / 65536).\(i / 256 % 256).\(i % 256) das_port_offset=\(i % 3) role=\"node \(i % 4)\"\n"
      }
      out += "[g\(g):vars]\nhazelcast_port=\(4000 + g)\ntier=leaf\n"
    }
    for p in 0..<parents {
      out += "[p\(p):children]\n"
      for g in stride(from: p, to: leaves, by: parents) { out += "g\(g)\n" }
    }
    return out
  }
}
