import Foundation
import Testing

extension Cluster {
  /// One row per documented exit code, from the binary a user runs.
  @Test func everyDocumentedExitCode() async throws {
    try await sandbox.reset()
    let unreachable = try sandbox.inventoryVariant("unreachable.ini") {
      // Nothing listens on port 1 of this loopback address: the connection is refused at once.
      $0.replacingOccurrences(of: "host1 ansible_host=\(sandbox.host("host1").address)", with: "host1 ansible_host=127.0.0.1 ansible_port=1")
    }
    let rows: [(args: [String], status: Int32, why: String)] = [
      (["validate", sandbox.inventory], 0, "a valid project"),
      (["plan", sandbox.inventory, "--limit", "host3"], 2, "plan finds changes on a stock host"),
      (["apply", sandbox.inventory, "--bogus-flag"], 1, "unknown option"),
      (["apply"], 1, "missing argument"),
      (["apply", sandbox.inventory, "--forks", "0"], 1, "an option's own check"),
      (["nosuchcommand"], 1, "unknown subcommand"),
      (["validate", sandbox.state + "/no-such-inventory.ini"], 1, "an inventory that does not exist"),
      (["plan", unreachable, "--limit", "host1"], 3, "an unreachable host"),
      (["--help"], 0, "help"),
    ]
    for row in rows {
      let r = try await sandbox.dasprov(row.args)
      #expect(r.status == row.status, "\(row.why): dasprov \(row.args.joined(separator: " ")) exited \(r.status)\n\(r.all)")
    }
  }

  /// A host that fails part-way through its changes: the line and the recap say what was
  /// applied, what failed and what was not attempted; `--json` says the same.
  @Test func aHostFailingPartWayIsReportedAsItHappened() async throws {
    try await sandbox.reset()
    let host = "host3"
    let jar = sandbox.state + "/files/partial-test-connector.jar"
    try FileManager.default.createDirectory(atPath: sandbox.state + "/files", withIntermediateDirectories: true)
    try Data("stand-in jar".utf8).write(to: URL(fileURLWithPath: jar))
    let lib = "\(das)/repository/components/lib"
    try FileManager.default.removeItem(atPath: sandbox.local(host, lib))
    let inventory = try sandbox.inventoryVariant("partial.ini") { $0 + "mysql_jdbc_jar=\(jar)\n" }

    let r = try await sandbox.dasprov(["apply", inventory, "--limit", host])
    #expect(r.status == 3, "\(r.all)")
    // The symlink, an earlier change of the same host, was made.
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: sandbox.local(host, "/opt/wso2das")) == das)
    let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("\(host): ") && $0.contains("FAILED") }.map(String.init) ?? ""
    #expect(line.contains("1 task applied (das-base)"), "\(r.stdout)")
    #expect(line.contains("FAILED das-base : MySQL JDBC driver"), "\(line)")
    #expect(line.contains("directory \(lib) does not exist on host \(host)"), "\(line)")
    #expect(line.contains("not attempted"), "\(line)")
    let recap = r.recap(host) ?? [:]
    #expect(recap["changed"] == 1, "\(r.stdout)")
    #expect(recap["failed"] == 1, "\(r.stdout)")
    #expect((recap["skipped"] ?? 0) >= 5, "the tasks after the failure are skipped: \(r.stdout)")
    #expect(recap["restarted"] == 0)

    // The same in JSON: one failed task, the rest not attempted; the applied one changed.
    try FileManager.default.removeItem(atPath: sandbox.local(host, "/opt/wso2das"))
    let j = try await sandbox.dasprov(["apply", inventory, "--limit", host, "--json"])
    #expect(j.status == 3)
    let doc = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
    let hostDoc = (doc?["hosts"] as? [[String: Any]])?.first { $0["name"] as? String == host }
    let tasks = hostDoc?["tasks"] as? [[String: Any]] ?? []
    let status = { (name: String) in tasks.first { $0["task"] as? String == name }?["status"] as? String }
    #expect(status("DAS home symlink") == "changed", "\(tasks)")
    #expect(status("MySQL JDBC driver") == "failed", "\(tasks)")
    let notAttempted = tasks.filter { ($0["reason"] as? String)?.hasPrefix("not attempted") == true }
    #expect(notAttempted.count >= 5, "\(tasks)")
    #expect(hostDoc?["changed"] as? Int == 1 && hostDoc?["failed"] as? Int == 1, "\(hostDoc ?? [:])")
    try await sandbox.reset()
  }
}
