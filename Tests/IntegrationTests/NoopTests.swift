import Foundation
import Testing

extension Cluster {
  // MARK: - A no-op sends digests, not files, and still finds every drift

  /// The hosts' answer to `apply --json` with the inventory: per host its JSON object.
  func applyJSON(_ args: [String] = []) async throws -> [String: [String: Any]] {
    let r = try await sandbox.dasprov(["apply", sandbox.inventory, "--json"] + args)
    #expect(r.status == 0, "\(r.all)")
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    var out: [String: [String: Any]] = [:]
    for host in json?["hosts"] as? [[String: Any]] ?? [] { out[host["name"] as? String ?? "?"] = host }
    return out
  }

  /// A converged host sends the digests of its files, not the files, on a no-op: one round
  /// trip, at most 8 KiB. Yet a file changed behind dasprov's back — by one byte, keeping its
  /// size — is found and put back on every run, whatever kind of task edits it (xml, properties,
  /// line), and `plan` reports it.
  @Test func aNoOpSendsDigestsYetFindsEveryFileChangedBehindItsBack() async throws {
    try await sandbox.reset()
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    // The converging run records the files it wrote or found right; the next one may add what
    // it could not (one exec, once); from then on a no-op is one round trip of digests.
    _ = try await applyJSON()
    for (name, host) in try await applyJSON() {
      #expect(host["changed"] as? Int == 0, "\(name): \(host)")
      #expect(host["round_trips"] as? Int == 1, "\(name): \(host["round_trips"] ?? "?") round trips")
      #expect((host["bytes_received"] as? Int ?? .max) <= 8192, "\(name) received \(host["bytes_received"] ?? "?") bytes")
    }
    let record = sandbox.local("host1", "/var/lib/dasprov/records")
    let recordText = try String(contentsOfFile: record, encoding: .utf8)
    #expect(recordText.allSatisfy { $0.isHexDigit || $0 == " " || $0 == "\n" }, "the record holds digests only: \(recordText)")
    #expect((try FileManager.default.attributesOfItem(atPath: record)[.posixPermissions] as? Int) == 0o600)

    let conf = "\(das)/repository/conf"
    let redHat = try #require(allHosts.first { sandbox.host($0).osFamily == "RedHat" })
    let debian = try #require(allHosts.first { sandbox.host($0).osFamily == "Debian" && $0 != "host1" })
    // One edit per kind of task, each keeping the file's size where it can.
    let drifts: [(host: String, path: String, edit: (String) -> String)] = [
      ("host1", "\(conf)/carbon.xml", { $0.replacingOccurrences(of: "<Offset>0</Offset>", with: "<Offset>7</Offset>") }),
      ("host2", "\(conf)/analytics/spark/spark-defaults.conf", { text in
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
          line.hasPrefix("carbon.spark.master.count") ? line.dropLast() + "3" : line
        }.joined(separator: "\n")
      }),
      (redHat, "\(das)/bin/wso2server.sh", { $0.replacingOccurrences(of: "export CARBON_HOME='/opt/wso2das'\n", with: "") }),
      (debian, "\(das)/bin/wso2server.sh", { "export CARBON_HOME=/elsewhere\n" + $0 }),
      ("host7", "\(conf)/user-mgt.xml", { $0.replacingOccurrences(of: "jdbc/WSO2UM_DB", with: "jdbc/WSO2UM_DX") }),
    ]
    let converged = Dictionary(uniqueKeysWithValues: drifts.map { ("\($0.host):\($0.path)", sandbox.bytes($0.host, $0.path)!) })
    for round in 1...2 {
      for d in drifts {
        let path = sandbox.local(d.host, d.path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let edited = d.edit(text)
        #expect(edited != text, "round \(round): the edit of \(d.path) on \(d.host) changed nothing")
        // In place, as an editor would leave it: same inode, same mode.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(edited.utf8))
        try handle.close()
      }
      let plan = try await sandbox.dasprov(["plan", sandbox.inventory])
      #expect(plan.status == 2, "round \(round): plan must see the drift: \(plan.all)")
      let hosts = try await applyJSON()
      let drifted = Set(drifts.map(\.host))
      for (name, host) in hosts {
        let changed = host["changed"] as? Int ?? -1
        #expect(drifted.contains(name) ? changed >= 1 : changed == 0, "round \(round): \(name) changed \(changed)")
      }
      for d in drifts {
        #expect(sandbox.bytes(d.host, d.path) == converged["\(d.host):\(d.path)"], "round \(round): \(d.path) on \(d.host) not put back")
      }
    }
    for (name, host) in try await applyJSON() {
      #expect(host["changed"] as? Int == 0 && host["round_trips"] as? Int == 1, "\(name): \(host)")
    }
  }
}
