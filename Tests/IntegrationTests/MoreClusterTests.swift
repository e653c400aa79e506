import Foundation
import Testing

extension Cluster {
  // MARK: - A second inventory of another shape

  /// Other host names, another order, other roles, a node with a port offset, and only
  /// RedHat-family hosts: nothing may fit the sandbox's own inventory by accident.
  @Test func aSecondInventoryOfAnotherShape() async throws {
    try await sandbox.reset(pristine: sandbox.dasPack != nil)
    // Make every Debian-family host a RedHat-family one for this test.
    var saved: [String: String] = [:]
    for host in allHosts where sandbox.host(host).osFamily == "Debian" {
      let path = sandbox.local(host, "/etc/os-release")
      saved[path] = try String(contentsOfFile: path, encoding: .utf8)
      try "NAME=\"AlmaLinux\"\nID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"AlmaLinux 9.3\"\n"
        .write(toFile: path, atomically: true, encoding: .utf8)
    }
    defer { for (path, text) in saved { try? text.write(toFile: path, atomically: true, encoding: .utf8) } }

    let roles = ["presenters": ["host2", "host5"], "analyzers": ["host8", "host3"], "receivers": ["host6", "host1"], "indexers": ["host4", "host7"]]
    let names = Dictionary(uniqueKeysWithValues: allHosts.map { ($0, "das-node-" + String($0.dropFirst(4)).uppercased() + "x") })
    var text = "# another shape: roles listed in another order, names that are not the sandbox's\n"
    for role in ["presenters", "analyzers", "receivers", "indexers"] {
      text += "[\(role)]\n"
      for host in roles[role]! {
        var line = "\(names[host]!) ansible_host=\(sandbox.host(host).address)"
        if host == "host5" { line += " das_port_offset=2" }
        // The JDK the sandbox puts outside every login environment, as on its own inventory lines.
        if ["host2", "host4", "host5", "host7"].contains(host) { line += " das_java_home=/opt/jdk1.8.0-standin" }
        text += line + "\n"
      }
      text += "\n"
    }
    text += """
      [das:children]
      indexers
      analyzers
      presenters
      receivers

      [mysql]
      database-server ansible_host=\(sandbox.host("db1").address)

      [all:vars]
      ansible_user=root
      ansible_ssh_private_key_file=\(sandbox.state)/id_ed25519
      dasprov_known_hosts=\(sandbox.state)/known_hosts
      db_host=\(sandbox.host("db1").address)
      db_port=3306
      db_user=das_app
      db_password=Sec0nd-Shape!
      das_link=/opt/das-current
      mysql_jdbc_jar=\(sandbox.state)/files/mysql-connector-java-5.1.49-standin.jar

      """
    let path = "\(sandbox.state)/second-shape.ini"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    let began = Date()
    let r = try await sandbox.dasprov(["apply", path])
    #expect(r.status == 0, "\(r.all)")
    var checks = SeedChecks(sandbox: sandbox, roles: roles, address: { sandbox.host($0).address }, offset: { $0 == "host5" ? 2 : 0 })
    checks.link = "/opt/das-current"
    checks.dbHost = sandbox.host("db1").address
    checks.dbUser = "das_app"
    checks.dbPassword = "Sec0nd-Shape!"
    try await checks.checkAll()
    // The offset node's server came up on 9443 + 2.
    #expect(sandbox.starts("host5").last?.contains("offset=2 address=\(sandbox.host("host5").address) port=9445") == true, "\(sandbox.starts("host5"))")
    // Restart order by role, whatever the order of the groups in the file.
    expectRollingOrder(since: began, hosts: ["host8", "host3", "host4", "host7", "host6", "host1", "host2", "host5"], roles: roles)
    let again = try await sandbox.dasprov(["apply", path])
    #expect(again.status == 0)
    for host in allHosts { #expect(again.recap(names[host]!)?["changed"] == 0, "\(again.stdout)") }
  }

  // MARK: - C-Apps, the JDBC driver, CEP state, rollback, become

  @Test func carbonAppsAndTheJdbcDriverArePushedOnceAndOnlyTheDriverRestarts() async throws {
    try await sandbox.reset()
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    let dir = "\(sandbox.state)/capps"
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try Data("car one".utf8).write(to: URL(fileURLWithPath: "\(dir)/Alerts_1.0.0.car"))
    try Data(repeating: 7, count: 300_000).write(to: URL(fileURLWithPath: "\(dir)/Analytics_2.1.0.car"))
    try Data("not a car".utf8).write(to: URL(fileURLWithPath: "\(dir)/README.txt"))
    let inventory = try sandbox.inventoryVariant("capps.ini") { $0 + "das_carbon_apps=capps\n" }
    let began = Date()
    let r = try await sandbox.dasprov(["apply", inventory])
    #expect(r.status == 0, "\(r.all)")
    for host in allHosts {
      let apps = "\(das)/repository/deployment/server/carbonapps"
      #expect(sandbox.bytes(host, "\(apps)/Alerts_1.0.0.car") == Array("car one".utf8))
      #expect(sandbox.bytes(host, "\(apps)/Analytics_2.1.0.car")?.count == 300_000)
      #expect(!FileManager.default.fileExists(atPath: sandbox.local(host, "\(apps)/README.txt")))
      #expect(startTimes(host).filter { $0.0 >= began }.isEmpty, "C-Apps are hot-deployed: \(host) must not restart")
    }
    try Data("car one, v2".utf8).write(to: URL(fileURLWithPath: "\(dir)/Alerts_1.0.0.car"))
    try Data("jar".utf8).write(to: URL(fileURLWithPath: "\(sandbox.state)/mysql-connector-java-5.1.49.jar"))
    let withJar = try sandbox.inventoryVariant("capps-jar.ini") { $0 + "das_carbon_apps=capps\nmysql_jdbc_jar=mysql-connector-java-5.1.49.jar\n" }
    let second = try await sandbox.dasprov(["apply", withJar, "-v"])
    #expect(second.status == 0, "\(second.all)")
    #expect(!second.stdout.contains("Analytics_2.1.0.car"), "an unchanged C-App was uploaded again")
    for host in allHosts {
      #expect(sandbox.bytes(host, "\(das)/repository/components/lib/mysql-connector-java-5.1.49.jar") == Array("jar".utf8))
      #expect(second.recap(host)?["restarted"] == 1, "the driver is loaded at start: \(host) must restart")
    }
  }

  @Test func cepStateIsTrimmedToTheNewestFilesPerPlanWhenAskedFor() async throws {
    try await sandbox.reset()
    let base = sandbox.local("host5", "\(das)/cep_persistence/-1234")
    for (plan, stamps) in [("PlanA", [1493101044948, 1493101045948, 1493101046948, 1493101047948]), ("PlanB", [10, 20])] {
      try FileManager.default.createDirectory(atPath: "\(base)/\(plan)", withIntermediateDirectories: true)
      for s in stamps { try Data("state".utf8).write(to: URL(fileURLWithPath: "\(base)/\(plan)/\(s)_\(plan)")) }
    }
    let off = try await sandbox.dasprov(["apply", sandbox.inventory, "--limit", "host5:mysql"])
    #expect(off.status == 0, "\(off.all)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: "\(base)/PlanA").count == 4, "pruning is opt-in")
    let inventory = try sandbox.inventoryVariant("prune.ini") { $0 + "das_cep_prune=true\n" }
    let on = try await sandbox.dasprov(["apply", inventory, "--limit", "host5", "--tags", "cep-persistence"])
    #expect(on.status == 0, "\(on.all)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: "\(base)/PlanA").sorted() == ["1493101046948_PlanA", "1493101047948_PlanA"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: "\(base)/PlanB").count == 2)
  }

  @Test func rollbackRestoresTheLastApplyAndRestartsInRoleOrder() async throws {
    try await sandbox.reset()
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    let file = "\(das)/repository/conf/datasources/master-datasources.xml"
    let before = sandbox.bytes("host3", file)
    // A change of the pool size, not of the password: a rollback restores files, and the
    // database server would keep the rotated password.
    let inventory = try sandbox.inventoryVariant("rollback.ini") { $0 + "das_datasource_max_active=40\n" }
    #expect(try await sandbox.dasprov(["apply", inventory]).status == 0)
    #expect(sandbox.bytes("host3", file) != before)
    let began = Date()
    let r = try await sandbox.dasprov(["rollback", inventory])
    #expect(r.status == 0, "\(r.all)")
    for host in allHosts { #expect(r.recap(host)?["restarted"] == 1, "\(host): \(r.stdout)") }
    #expect(sandbox.bytes("host3", file) == before, "rollback did not restore the file")
    expectRollingOrder(since: began, hosts: rollOrder)
    let plan = try await sandbox.dasprov(["plan", inventory])
    #expect(plan.status == 2, "after a rollback the inventory's state differs again: \(plan.all)")
  }

  @Test func aNonRootLoginWithBecomeWritesRootOwnedFiles() async throws {
    try await sandbox.reset()
    let inventory = try sandbox.inventoryVariant("become.ini") {
      $0.replacingOccurrences(of: "ansible_user=root", with: "ansible_user=dasuser\nansible_become=true")
    }
    let r = try await sandbox.dasprov(["apply", inventory, "--limit", "analyzers:mysql", "--json"])
    #expect(r.status == 0, "\(r.all)")
    for host in ["host1", "host2"] {
      let attrs = try FileManager.default.attributesOfItem(atPath: sandbox.local(host, "\(das)/repository/conf/axis2/axis2.xml"))
      // The DAS home belongs to wso2 (uid 1600), which the login user is not: only sudo could
      // replace the file, and a replaced file keeps its owner.
      #expect(attrs[.ownerAccountID] as? Int == 1600, "written through sudo, keeping its owner")
      #expect(try await sandbox.xpath(host, "\(das)/repository/conf/axis2/axis2.xml", "string(/axisconfig/clustering/@enable)") == "true")
      #expect(FileManager.default.fileExists(atPath: sandbox.local(host, "/var/lib/dasprov/backups")), "root's state directory is used under become")
    }
  }

  @Test func factsAndTopologyDescribeTheCluster() async throws {
    let facts = try await sandbox.dasprov(["facts", sandbox.inventory, "--json"])
    #expect(facts.status == 0, "\(facts.all)")
    let json = try JSONSerialization.jsonObject(with: Data(facts.stdout.utf8)) as! [String: [String: Any]]
    for host in allHosts {
      #expect(json[host]?["os_family"] as? String == sandbox.host(host).osFamily, "\(host): \(json[host] ?? [:])")
      #expect(json[host]?["hostname"] as? String == host)
    }
    let topology = try await sandbox.dasprov(["topology", sandbox.inventory])
    #expect(topology.status == 0)
    #expect(topology.stdout.contains("analyzers' cluster: \(sandbox.host("host1").address):4000, \(sandbox.host("host2").address):4000"))
    #expect(topology.stdout.contains("Restart order: analyzers → indexers → receivers → presenters"))
    // Per node, the ports others must reach on it (firewall rules): Spark only on analyzers.
    let host1 = sandbox.host("host1").address, host7 = sandbox.host("host7").address
    #expect(topology.stdout.contains("  host1 (\(host1)): 9443 https from clients and every node; 4000 hazelcast from the analyzers; 11224, 10005 CEP HA event sync, management from every DAS node; 11002 CEP HA presentation from every DAS node; 7077, 6066, 11000, 11500, 12000-14500 Spark master, REST, worker from the other analyzers\n"), "\(topology.stdout)")
    #expect(topology.stdout.contains("  host7 (\(host7)): 9443 https from clients and every node; 4000 hazelcast from every non-analyzer; 11224, 10005 CEP HA event sync, management from every DAS node; 11000 CEP HA presentation from every DAS node\n"))
    let dot = try await sandbox.dasprov(["topology", sandbox.inventory, "--dot"])
    #expect(dot.stdout.hasPrefix("digraph das {"))
  }
}

extension Cluster {
  /// One host's variable changes: only the files that depend on it change, and only the nodes
  /// whose files changed restart — in role order, one at a time.
  @Test func oneVariableRestartsOnlyTheNodesItReaches() async throws {
    try await sandbox.reset()
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    let host3 = sandbox.host("host3").address
    // host3 (an indexer) moves its Hazelcast port: its own axis2.xml changes, and so does every
    // non-analyzer's member list; the analyzers' cluster does not include host3.
    let inventory = try sandbox.inventoryVariant("hazelcast-port.ini") {
      $0.replacingOccurrences(of: "host3 ansible_host=\(host3)\n", with: "host3 ansible_host=\(host3) hazelcast_port=4100\n")
    }
    let began = Date()
    let r = try await sandbox.dasprov(["apply", inventory, "--json"])
    #expect(r.status == 0, "\(r.all)")
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    for host in json["hosts"] as! [[String: Any]] {
      let name = host["name"] as! String
      guard name.hasPrefix("host") else { continue }
      let expected = ["host1", "host2"].contains(name) ? 0 : 1
      #expect(host["restarted"] as? Int == expected, "\(name) restarted \(host["restarted"] ?? "?")")
      let changes = (host["tasks"] as! [[String: Any]]).flatMap { $0["changes"] as! [String] }
      #expect(changes.allSatisfy { $0.contains("axis2.xml") }, "\(name) changed more than axis2.xml: \(changes)")
    }
    #expect(try await sandbox.xpath("host3", "\(das)/repository/conf/axis2/axis2.xml", "string(/axisconfig/clustering/parameter[@name='localMemberPort'])") == "4100")
    #expect(try await sandbox.xpath("host5", "\(das)/repository/conf/axis2/axis2.xml", "string(/axisconfig/clustering/members/member[hostName='\(host3)']/port)") == "4100")
    expectRollingOrder(since: began, hosts: ["host3", "host4", "host5", "host6", "host7", "host8"])
    for host in ["host1", "host2"] { #expect(startTimes(host).filter { $0.0 >= began }.isEmpty) }
  }
}
