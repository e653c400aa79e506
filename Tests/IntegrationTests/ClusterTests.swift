import DasprovTestSupport
import Foundation
import Testing

/// One serialized suite: every test here drives the same 8 sandbox hosts.
@Suite(.serialized) struct Cluster {
  let sandbox: Sandbox
  let das = "/opt/wso2das-3.1.0"
  let roles = ["analyzers": ["host1", "host2"], "indexers": ["host3", "host4"], "receivers": ["host5", "host6"], "presenters": ["host7", "host8"]]
  let profiles = ["analyzers": "-analyzerNode", "indexers": "-indexerNode", "receivers": "-receiverNode", "presenters": "-dashboardNode"]

  init() throws { sandbox = try Sandbox.current() }

  var allHosts: [String] { (1...8).map { "host\($0)" } }
  func role(of host: String) -> String { roles.first { $0.value.contains(host) }!.key }

  /// Start records of every host, parsed: time and profile.
  func startTimes(_ host: String) -> [(Date, String)] {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return sandbox.starts(host).compactMap { line in
      let parts = line.split(separator: " ")
      guard let date = f.date(from: String(parts[0])), let p = parts.first(where: { $0.hasPrefix("profile=") }) else { return nil }
      return (date, String(p.dropFirst(8)))
    }
  }

  /// The times the stand-in server logged "WSO2 Carbon started".
  func readyTimes(_ host: String) -> [Date] {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return (sandbox.read(host, "\(das)/repository/logs/wso2carbon.log") ?? "").split(separator: "\n").compactMap { line in
      guard line.contains("WSO2 Carbon started"), let close = line.firstIndex(of: "]") else { return nil }
      return f.date(from: String(line[line.index(after: line.startIndex)..<close]))
    }
  }

  /// Checks that hosts restarted in role order, one at a time: each start begins after the
  /// previous node reported healthy.
  func expectRollingOrder(since: Date, hosts: [String], roles: [String: [String]]? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    let roles = roles ?? self.roles
    var previousReady: Date?
    for host in hosts {
      let starts = startTimes(host).filter { $0.0 >= since }
      #expect(starts.count == 1, "\(host) started \(starts.count) times", sourceLocation: sourceLocation)
      guard let start = starts.first else { continue }
      let role = roles.first { $0.value.contains(host) }!.key
      #expect(start.1 == profiles[role], "\(host) started with \(start.1)", sourceLocation: sourceLocation)
      if let previousReady {
        #expect(start.0 >= previousReady, "\(host) started before the previous node was healthy", sourceLocation: sourceLocation)
      }
      previousReady = readyTimes(host).filter { $0 >= start.0 }.first
    }
  }

  var rollOrder: [String] { ["host1", "host2", "host3", "host4", "host5", "host6", "host7", "host8"] }

  // MARK: - First apply, no-op re-run

  @Test func firstApplyConfiguresAndRollsThenAReRunChangesNothing() async throws {
    try await sandbox.reset()
    let began = Date()
    let first = try await sandbox.dasprov(["apply", sandbox.inventory])
    #expect(first.status == 0, "\(first.all)")
    for host in allHosts {
      let recap = try #require(first.recap(host), "no recap line for \(host): \(first.stdout)")
      #expect(recap["changed"]! > 0 && recap["failed"] == 0 && recap["restarted"] == 1, "\(host): \(recap)")
    }
    expectRollingOrder(since: began, hosts: rollOrder)

    // Files checked on the hosts themselves.
    for host in allHosts {
      #expect(try await sandbox.xpath(host, "\(das)/repository/conf/axis2/axis2.xml", "string(/axisconfig/clustering/@enable)") == "true")
      #expect(try FileManager.default.destinationOfSymbolicLink(atPath: sandbox.local(host, "/opt/wso2das")) == das)
    }

    // The re-run: nothing changed, nothing restarted, one session and one round trip per host.
    let logSizes = Dictionary(uniqueKeysWithValues: sandbox.hosts.map { ($0.name, sshdLog($0.name).count) })
    let second = try await sandbox.dasprov(["apply", sandbox.inventory, "--json"])
    #expect(second.status == 0, "\(second.all)")
    let json = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as! [String: Any]
    for host in json["hosts"] as! [[String: Any]] {
      let name = host["name"] as! String
      #expect(host["changed"] as? Int == 0 && host["restarted"] as? Int == 0, "\(name) \(host)")
      #expect((host["round_trips"] as? Int ?? 99) <= 2, "\(name) used \(host["round_trips"]!) round trips")
      // Independently, from sshd's own log: one login and one exec channel.
      let newLines = sshdLog(name).dropFirst(logSizes[name]!)
      #expect(newLines.filter { $0.contains("Accepted publickey") }.count == 1, "\(name): sessions \(logSizes[name]!) \(sshdLog(name).count) \(newLines)")
      #expect(newLines.filter { $0.contains("Starting session: command") }.count <= 2, "\(name): channels")
    }
    for host in allHosts { #expect(startTimes(host).filter { $0.0 >= began }.count == 1, "\(host) restarted again") }

    let plan = try await sandbox.dasprov(["plan", sandbox.inventory])
    #expect(plan.status == 0, "plan after convergence must exit 0: \(plan.all)")
  }

  func sshdLog(_ host: String) -> [Substring] {
    // Log files are named by the host's index (db1 is host0).
    let index = sandbox.host(host).index
    let text = (try? String(contentsOfFile: "\(sandbox.state)/logs/host\(index).sshd.log", encoding: .utf8)) ?? ""
    // sshd ends its -E log lines with CRLF, which Swift sees as one Character.
    return text.split(whereSeparator: \.isNewline)
  }

  // MARK: - The seed on the pristine DAS 3.1.0 files

  @Test func everySeedStepOnThePristineFiles() async throws {
    guard sandbox.dasPack != nil else { Issue.record("DASPROV_DAS_PACK is not set"); return }
    try await sandbox.reset(pristine: true)
    let r = try await sandbox.dasprov(["apply", sandbox.inventory])
    #expect(r.status == 0, "\(r.all)")
    var checks = SeedChecks(sandbox: sandbox, roles: roles, address: { sandbox.host($0).address }, offset: { _ in 0 })
    checks.dbHost = sandbox.host("db1").address
    try await checks.checkAll()
    try await SeedChecks.expectOnlySeedElementsChanged(sandbox: sandbox, hosts: allHosts)
    let again = try await sandbox.dasprov(["apply", sandbox.inventory])
    #expect(again.status == 0)
    for host in allHosts { #expect(again.recap(host)?["changed"] == 0, "\(host) changed on the re-run: \(again.stdout)") }
  }

  // MARK: - A changed secret

  @Test func changingTheDatabasePasswordRewritesOnlyDatasourcesAndRollsEveryNodeOnce() async throws {
    try await sandbox.reset()
    let converge = try await sandbox.dasprov(["apply", sandbox.inventory])
    #expect(converge.status == 0, "\(converge.all)")
    let password = "p<&\"'w]]>d $(x)`y`"
    let inventory = try sandbox.inventoryVariant("password.ini") {
      $0.replacingOccurrences(of: "db_password=Das-Sandbox-Pw1", with: "db_password='\(password.replacingOccurrences(of: "'", with: "\\'"))'")
    }
    let conf = "\(das)/repository/conf"
    let watched = [
      "datasources/master-datasources.xml", "datasources/analytics-datasources.xml", "registry.xml", "axis2/axis2.xml",
      "event-processor.xml", "user-mgt.xml", "carbon.xml",
    ]
    let before = Dictionary(uniqueKeysWithValues: allHosts.flatMap { h in watched.map { ("\(h):\($0)", sandbox.bytes(h, "\(conf)/\($0)")) } })
    let began = Date()
    let r = try await sandbox.dasprov(["apply", inventory, "-vvv", "--diff", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    for form in [password, "p&lt;&amp;", "p%3C%26"] {
      #expect(!r.all.contains(form), "the password leaked as \(form)")
    }
    for host in allHosts {
      for file in watched {
        let changed = sandbox.bytes(host, "\(conf)/\(file)") != before["\(host):\(file)"]!
        #expect(changed == file.hasPrefix("datasources/"), "\(host) \(file) changed=\(changed)")
      }
      let xpath = "string(/datasources-configuration/datasources/datasource[name='WSO2UM_DB']/definition/configuration/password)"
      #expect(try await sandbox.xpath(host, "\(conf)/datasources/master-datasources.xml", xpath) == password)
      let analytics = "string(/datasources-configuration/datasources/datasource[name='WSO2_ANALYTICS_EVENT_STORE_DB']/definition/configuration/password)"
      #expect(try await sandbox.xpath(host, "\(conf)/datasources/analytics-datasources.xml", analytics) == password)
    }
    expectRollingOrder(since: began, hosts: rollOrder)
  }

  // MARK: - Health gates

  @Test func aFailingHealthGateHaltsTheRollAndTheNextApplyResumes() async throws {
    try await sandbox.reset()
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    let failSwitch = sandbox.local("host3", "/etc/dasprov-sandbox/fail-start")
    #expect(FileManager.default.createFile(atPath: failSwitch, contents: Data()))
    defer { try? FileManager.default.removeItem(atPath: failSwitch) }
    let inventory = try sandbox.inventoryVariant("gate.ini") { $0 + "das_start_timeout=8\ncep_persistence=false\n" }
    let began = Date()
    let r = try await sandbox.dasprov(["apply", inventory])
    #expect(r.status == 3, "\(r.all)")
    #expect(r.stdout.contains("halted"), "\(r.stdout)")
    #expect(r.stdout.contains("host3"))
    #expect(r.recap("host1")?["restarted"] == 1 && r.recap("host2")?["restarted"] == 1)
    #expect(r.recap("host3")?["failed"] == 1)
    for host in ["host4", "host5", "host6", "host7", "host8"] {
      #expect(startTimes(host).filter { $0.0 >= began }.isEmpty, "\(host) was restarted after the roll halted")
      #expect(try await sandbox.xpath(host, "\(das)/repository/conf/event-processor.xml", "string(/eventProcessorConfiguration/mode[@name='HA']/persistence/@enable)") == "false", "config of \(host) was not applied")
    }
    try FileManager.default.removeItem(atPath: failSwitch)
    let resumed = Date()
    let again = try await sandbox.dasprov(["apply", inventory])
    #expect(again.status == 0, "\(again.all)")
    for host in ["host1", "host2"] { #expect(startTimes(host).filter { $0.0 >= resumed }.isEmpty, "\(host) restarted twice") }
    expectRollingOrder(since: resumed, hosts: ["host3", "host4", "host5", "host6", "host7", "host8"])
    for host in allHosts { #expect(again.recap(host)?["changed"] == 0, "\(host)") }
  }

  @Test func killingDasprovDuringTheRollLeavesRestartsPendingUntilTheNextApply() async throws {
    try await sandbox.reset()
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    let inventory = try sandbox.inventoryVariant("kill.ini") { $0 + "cep_persistence=false\n" }
    let began = Date()
    let process = try await Command.start(sandbox.binary, ["apply", inventory], workingDirectory: Sandbox.projectRoot)
    // Wait until the roll is under way (the first analyzer restarted), then kill -9.
    let deadline = Date().addingTimeInterval(30)
    while startTimes("host1").filter({ $0.0 >= began }).isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
    process.signal(SIGKILL)
    _ = try await process.wait()
    let pending = allHosts.filter { !((try? FileManager.default.contentsOfDirectory(atPath: sandbox.local($0, "/var/lib/dasprov/pending"))) ?? []).isEmpty }
    #expect(!pending.isEmpty, "no host kept a pending-restart marker")
    let again = try await sandbox.dasprov(["apply", inventory])
    #expect(again.status == 0, "\(again.all)")
    for host in allHosts {
      #expect(((try? FileManager.default.contentsOfDirectory(atPath: sandbox.local(host, "/var/lib/dasprov/pending"))) ?? []).isEmpty)
      let lastStart = startTimes(host).last?.0 ?? .distantPast
      #expect(lastStart >= began, "\(host) never restarted after its configuration changed")
    }
    for host in pending { #expect(again.recap(host)?["restarted"] == 1, "\(host) did not resume its restart: \(again.stdout)") }
  }

  // MARK: - Unreachable hosts

  @Test func anUnreachableHostFailsAloneAndItsRoleIsNotRestarted() async throws {
    try await sandbox.reset()
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    let pidFile = "\(sandbox.state)/run/host6.pid"
    let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
    kill(pid, SIGTERM)
    try await Task.sleep(for: .milliseconds(300))
    try await withCleanup {
      let inventory = try sandbox.inventoryVariant("unreachable.ini") { $0 + "cep_persistence=false\n" }
      let began = Date()
      let r = try await sandbox.dasprov(["apply", inventory])
      #expect(r.status == 3, "\(r.all)")
      #expect(r.recap("host6")?["unreachable"] == 1)
      for host in allHosts where host != "host6" {
        #expect(try await sandbox.xpath(host, "\(das)/repository/conf/event-processor.xml", "string(/eventProcessorConfiguration/mode[@name='HA']/persistence/@enable)") == "false")
      }
      for host in ["host1", "host2", "host3", "host4"] { #expect(startTimes(host).filter { $0.0 >= began }.count == 1, "\(host)") }
      for host in ["host5", "host7", "host8"] { #expect(startTimes(host).filter { $0.0 >= began }.isEmpty, "\(host) restarted though its role or an earlier one has an unreachable member") }
    } cleanup: {
      _ = try? await sandbox.run("/bin/bash", [Sandbox.projectRoot + "/sandbox/sandbox.sh", "up", "--state", sandbox.state, "--net", String(sandbox.host("host1").address.split(separator: ".").prefix(3).joined(separator: "."))])
    }
  }

  // MARK: - Host keys

  @Test func aChangedHostKeyIsRefusedAndNothingIsSent() async throws {
    try await sandbox.reset()
    let known = try String(contentsOfFile: "\(sandbox.state)/known_hosts", encoding: .utf8)
    let other = try String(contentsOfFile: sandbox.local("host2", "/etc/ssh/ssh_host_ed25519_key.pub"), encoding: .utf8)
    let host1 = sandbox.host("host1").address
    let forged = known.split(separator: "\n").map { line -> String in
      line.hasPrefix("\(host1) ssh-ed25519") ? "\(host1) \(other.split(separator: " ").prefix(2).joined(separator: " "))" : String(line)
    }.joined(separator: "\n") + "\n"
    let path = "\(sandbox.state)/known_hosts.forged"
    try forged.write(toFile: path, atomically: true, encoding: .utf8)
    let r = try await sandbox.dasprov(["apply", sandbox.inventory, "--limit", "host1", "--known-hosts", path])
    #expect(r.status == 3, "\(r.all)")
    #expect(r.stdout.contains("SHA256:"), "\(r.stdout)")
    #expect(r.recap("host1")?["unreachable"] == 1)
    #expect(!FileManager.default.fileExists(atPath: sandbox.local("host1", "/opt/wso2das")), "something was changed on host1")
  }

  // MARK: - Bad input touches no host

  @Test func badInputsAreErrorsBeforeAnyHostIsTouched() async throws {
    try await sandbox.reset()
    let three = try sandbox.inventoryVariant("three-analyzers.ini") { $0.replacingOccurrences(of: "[indexers]\nhost3", with: "host3 ansible_host=\(sandbox.host("host3").address)\n[indexers]\nhostX") }
    let r = try await sandbox.dasprov(["apply", three])
    #expect(r.status == 1, "\(r.all)")
    #expect(r.stderr.contains("three-analyzers.ini:"), "\(r.stderr)")
    let broken = try sandbox.inventoryVariant("broken.ini") { $0.replacingOccurrences(of: "[indexers]", with: "[indexers") }
    let b = try await sandbox.dasprov(["apply", broken])
    #expect(b.status == 1)
    #expect(b.stderr.contains("broken.ini:"), "\(b.stderr)")
    for host in allHosts {
      #expect(!FileManager.default.fileExists(atPath: sandbox.local(host, "/opt/wso2das")), "\(host) was touched")
    }
  }
}
