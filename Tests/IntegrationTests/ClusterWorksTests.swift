import Foundation
import Testing

/// A cluster that works as the product runs it (issue 16, FACTS.md §10): the server runs as its
/// service user with JAVA_HOME passed explicitly, a node that could not start stops the run
/// before any change, and the stand-in DAS fails at start for the product's reasons.
extension Cluster {
  /// The sandbox's service user and each host's JDK (docs/sandbox.md): hosts 2, 4, 5 and 7 have
  /// theirs only through `das_java_home` in the inventory; the others through the login profile.
  var serviceUser: String { "wso2" }
  func javaHome(_ host: String) -> String {
    ["host2", "host4", "host5", "host7"].contains(host) ? "/opt/jdk1.8.0-standin" : "/opt/java/jdk1.8.0-standin"
  }

  /// `key=value` fields of a host's start records since `since`.
  func starts(_ host: String, since: Date) -> [[String: String]] {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return sandbox.starts(host).compactMap { line in
      let parts = line.split(separator: " ")
      guard let first = parts.first, let date = f.date(from: String(first)), date >= since else { return nil }
      var fields: [String: String] = [:]
      for p in parts.dropFirst() {
        let kv = p.split(separator: "=", maxSplits: 1)
        if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
      }
      return fields
    }
  }

  /// The owner of a host's file, by name as the host knows it (the service user exists only
  /// in the hosts' own /etc/passwd).
  func owner(_ host: String, _ path: String) -> String? {
    guard let uid = (try? FileManager.default.attributesOfItem(atPath: sandbox.local(host, path)))?[.ownerAccountID] as? Int else { return nil }
    return [0: "root", 1600: serviceUser][uid] ?? String(uid)
  }

  @Test func theServerRunsAsItsServiceUserWithJavaHomeByRootLoginAndThroughBecome() async throws {
    try await sandbox.reset()
    let began = Date()
    let r = try await sandbox.dasprov(["apply", sandbox.inventory])
    #expect(r.status == 0, "\(r.all)")
    for host in allHosts {
      let s = starts(host, since: began)
      #expect(s.count == 1, "\(host): \(s)")
      #expect(s.first?["user"] == serviceUser && s.first?["uid"] == "1600", "\(host) started as \(s.first?["user"] ?? "?")")
      #expect(s.first?["java_home"] == javaHome(host), "\(host): \(s.first ?? [:])")
      #expect(owner(host, "\(das)/repository/logs/wso2carbon.log") == serviceUser)
    }
    // The same through become: a non-root login whose scripts run under sudo, which drops the
    // environment. A changed setting restarts every node.
    let become = try sandbox.inventoryVariant("become.ini") {
      $0.replacingOccurrences(of: "ansible_user=root", with: "ansible_user=dasuser\nansible_become=true") + "cep_persistence=false\n"
    }
    let again = Date()
    let b = try await sandbox.dasprov(["apply", become])
    #expect(b.status == 0, "\(b.all)")
    for host in allHosts {
      let s = starts(host, since: again)
      #expect(s.count == 1 && s.first?["user"] == serviceUser && s.first?["java_home"] == javaHome(host), "\(host) through become: \(s)")
    }
    #expect(try await sandbox.dasprov(["apply", become]).recap("host1")?["changed"] == 0)
    try await sandbox.reset()
  }

  @Test func noConnectorAnywhereStopsTheRunBeforeAnyChange() async throws {
    try await sandbox.reset()
    let inventory = try sandbox.inventoryVariant("no-connector.ini") {
      $0.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("mysql_jdbc_jar=") }.joined(separator: "\n")
    }
    let before = allHosts.map { tree($0, "\(das)/repository") }
    let began = Date()
    let r = try await sandbox.dasprov(["apply", inventory])
    #expect(r.status == 3, "\(r.all)")
    #expect(r.stdout.contains("host1: FAILED: ") && r.stdout.contains("mysql_jdbc_jar is not set: every datasource uses com.mysql.jdbc.Driver"), "\(r.stdout)")
    #expect(r.stdout.contains("stopped before any change: DAS could not start on host1, host2, host3, host4, host5, host6, host7, host8 as configured"), "\(r.stdout)")
    #expect(allHosts.map { tree($0, "\(das)/repository") } == before, "a host changed")
    #expect(allHosts.allSatisfy { starts($0, since: began).isEmpty })
    #expect(r.recap("db1")?["changed"] == 0, "the database host changed too")
  }

  @Test func aServerWouldRunAsRootOrWithoutAJDKIsRefusedBeforeAnyChange() async throws {
    try await sandbox.reset()
    // host3's DAS home belongs to root; host2's JDK is known only from its inventory line,
    // which loses it here.
    _ = try await sandbox.run("/bin/chown", ["-R", "root:root", sandbox.local("host3", das)])
    let inventory = try sandbox.inventoryVariant("no-account.ini") {
      $0.replacingOccurrences(of: "host2 ansible_host=\(sandbox.host("host2").address) das_java_home=/opt/jdk1.8.0-standin", with: "host2 ansible_host=\(sandbox.host("host2").address)")
    }
    #expect(try String(contentsOfFile: inventory, encoding: .utf8) != String(contentsOfFile: sandbox.inventory, encoding: .utf8))
    let r = try await sandbox.dasprov(["apply", inventory])
    #expect(r.status == 3, "\(r.all)")
    #expect(r.stdout.contains("host3: FAILED: host3: DAS cannot start there as configured: \(das) belongs to root, so DAS would run as root: set das_user"), "\(r.stdout)")
    #expect(r.stdout.contains("host2: FAILED: host2: DAS cannot start there as configured: no JAVA_HOME for wso2: das_java_home is not set"), "\(r.stdout)")
    #expect(r.stdout.contains("stopped before any change: DAS could not start on host2, host3 as configured"), "\(r.stdout)")
    #expect(r.recap("host1")?["changed"] == 0)
    // Root, written on purpose, is allowed.
    let asRoot = try sandbox.inventoryVariant("as-root.ini") {
      $0.replacingOccurrences(of: "host3 ansible_host=\(sandbox.host("host3").address)", with: "host3 ansible_host=\(sandbox.host("host3").address) das_user=root")
    }
    let began = Date()
    let ok = try await sandbox.dasprov(["apply", asRoot, "--limit", "host3:db1"])
    #expect(ok.status == 0, "\(ok.all)")
    #expect(starts("host3", since: began).first?["user"] == "root")
    try await sandbox.reset()
  }

  @Test func aNodeThatRanAsRootMovesToItsServiceUser() async throws {
    try await sandbox.reset()
    let host = "host1"
    // Started by hand as root once, as operators often did: root-owned logs, tmp, data, PID file.
    // (The start script empties tmp/ itself, which a root-owned tmp/work would not let it do.)
    // Over plain OpenSSH, as an operator would: the server must not hold the test's pipes.
    let start = try await sandbox.run("/bin/bash", [Sandbox.projectRoot + "/sandbox/sandbox.sh", "ssh", "1", "--state", sandbox.state,
      "cd / && JAVA_HOME=/opt/java/jdk1.8.0-standin \(das)/bin/wso2server.sh start -analyzerNode >/dev/null 2>&1; sleep 1; mkdir -p \(das)/tmp/work \(das)/repository/data; touch \(das)/repository/data/x"])
    #expect(start.status == 0, "\(start.all)")
    #expect(owner(host, "\(das)/wso2carbon.pid") == "root")
    let began = Date()
    let r = try await sandbox.dasprov(["apply", sandbox.inventory, "--limit", "\(host):db1"])
    #expect(r.status == 0, "\(r.all)")
    let s = starts(host, since: began)
    #expect(s.last?["user"] == serviceUser, "\(s)")
    for path in ["repository/logs/wso2carbon.log", "tmp/work", "repository/data/x", "wso2carbon.pid"] {
      #expect(owner(host, "\(das)/\(path)") == serviceUser, "\(path) still belongs to \(owner(host, "\(das)/\(path)") ?? "?")")
    }
    try await sandbox.reset()
  }

  @Test func aDatabaseLoginThatFailsStopsBeforeAnyRestartAndTheGateShowsTheServersError() async throws {
    try await sandbox.reset()
    // No [mysql] group: dasprov does not manage the server, whose password for the DAS user
    // differs from the inventory's. A short start timeout: the stand-in never comes up.
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory, "--limit", "db1"]).status == 0)
    let inventory = try sandbox.inventoryVariant("bad-login.ini") {
      $0.replacingOccurrences(of: "[mysql]\ndb1 ansible_host=\(sandbox.host("db1").address)\n", with: "")
        .replacingOccurrences(of: "db_password=Das-Sandbox-Pw1", with: "db_password=Not-The-Servers-Pw") + "das_start_timeout=10\n"
    }
    let began = Date()
    let r = try await sandbox.dasprov(["apply", inventory])
    #expect(r.status == 3, "\(r.all)")
    #expect(r.stdout.contains("host1: PRE-FLIGHT FAILED: database: login as dasuser to \(sandbox.host("db1").address):3306 failed: ERROR 1045"), "\(r.stdout)")
    #expect(allHosts.allSatisfy { starts($0, since: began).isEmpty }, "a node restarted")
    #expect(!r.all.contains("Not-The-Servers-Pw"))
    let skipped = try await sandbox.dasprov(["apply", inventory, "--skip-preflight"])
    #expect(skipped.status == 3, "\(skipped.all)")
    let failure = skipped.stdout.split(separator: "\n").first { $0.hasPrefix("host1: restart failed:") } ?? ""
    #expect(failure.contains("the server logged: ") && failure.contains("ERROR {org.apache.tomcat.jdbc.pool.ConnectionPool}") && failure.contains("Access denied for user 'dasuser'"), "\(skipped.stdout)")
    #expect(starts("host1", since: began).count == 1)
    #expect(allHosts.dropFirst().allSatisfy { starts($0, since: began).isEmpty }, "a node after the failed one restarted")
    try await sandbox.reset()
  }
}
