import Foundation
import Testing

/// Bad inputs through the command line: errors found before any host is touched (exit 1, the
/// file, line and column, and not one SSH session in any host's sshd log), errors only a host
/// can reveal (its file does not parse, or is missing: that host fails, the others converge),
/// and values that must reach the hosts byte for byte.
extension Cluster {
  /// The sshd logs' sizes, to see later whether anyone connected.
  func sshdLogSizes() -> [String: Int] {
    Dictionary(uniqueKeysWithValues: sandbox.hosts.map { h in
      (h.name, ((try? FileManager.default.attributesOfItem(atPath: "\(sandbox.state)/logs/host\(h.index).sshd.log"))?[.size] as? Int) ?? 0)
    })
  }

  /// Hosts whose sshd logged a connection since `sizes`.
  func hostsConnected(since sizes: [String: Int]) -> [String] {
    sandbox.hosts.compactMap { h in
      let data = FileManager.default.contents(atPath: "\(sandbox.state)/logs/host\(h.index).sshd.log") ?? Data()
      let new = String(decoding: data.dropFirst(sizes[h.name] ?? 0), as: UTF8.self)
      return new.contains("Connection from") || new.contains("Accepted") ? h.name : nil
    }
  }

  /// A directory for one bad input, with the sandbox's inventory edited by `inventory` and, when
  /// `project` edits are given, a copy of Playbooks/ and Modules/ with them applied.
  func badInput(_ name: String, inventory: (String) -> String = { $0 }, project: [(file: String, old: String, new: String)] = []) throws -> (dir: String, args: [String]) {
    let dir = "\(sandbox.state)/bad-inputs/\(name)"
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try inventory(String(contentsOfFile: sandbox.inventory, encoding: .utf8)).write(toFile: "\(dir)/inventory.ini", atomically: true, encoding: .utf8)
    var args = ["apply", "\(dir)/inventory.ini"]
    if !project.isEmpty {
      for d in ["Playbooks", "Modules"] { try FileManager.default.copyItem(atPath: "\(Sandbox.projectRoot)/\(d)", toPath: "\(dir)/project/\(d)") }
      for edit in project {
        let path = "\(dir)/project/\(edit.file)"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try #require(text.contains(edit.old), "\(edit.file) has no '\(edit.old)'")
        try text.replacingOccurrences(of: edit.old, with: edit.new).write(toFile: path, atomically: true, encoding: .utf8)
      }
      args += ["--project", "\(dir)/project"]
    }
    return (dir, args)
  }

  // MARK: - Found before any host is touched

  @Test func badInputsAreExactErrorsAndNoHostSeesASession() async throws {
    let sizes = sshdLogSizes()
    defer { try? FileManager.default.removeItem(atPath: "\(sandbox.state)/bad-inputs") }
    /// One rendered diagnostic: the header, the source line, the caret line.
    func diag(_ file: String, _ line: Int, _ column: Int, _ length: Int, _ message: String, _ source: String) -> String {
      "\(file):\(line):\(column): error: \(message)\n\(source)\n" + String(repeating: " ", count: column - 1) + "^" + String(repeating: "~", count: length - 1) + "\n"
    }
    func total(_ n: Int) -> String { "dasprov: \(n) error\(n == 1 ? "" : "s"); no host was touched\n" }
    let inv = "$DIR/inventory.ini"
    let h3 = "host3 ansible_host=\(sandbox.host("host3").address)", h6 = "host6 ansible_host=\(sandbox.host("host6").address)"
    let h8 = "host8 ansible_host=\(sandbox.host("host8").address)"
    // Project files are shown relative to the project (--project), inventories as given.
    let spark = "Modules/das-spark/tasks.dasp", datasources = "Modules/das-datasources"
    let sparkLine = #"task "two Spark masters" properties "{{ das_home }}/repository/conf/analytics/spark/spark-defaults.conf" {"#
    let fragmentLine = #"  fragment "/datasources-configuration/datasources/datasource[name='{{ ds.name }}']" from "datasource.xml" after "/datasources-configuration/datasources/datasource[last()]""#
    let offset = "das_port_offset=9223372036854775807"
    let cases: [(name: String, input: (dir: String, args: [String]), stderr: String)] = [
      (
        "malformed-section", try badInput("malformed-section", inventory: { $0.replacingOccurrences(of: "[indexers]", with: "[indexers") }),
        diag(inv, 6, 1, 9, "malformed section header: expected ']'", "[indexers")
          + diag(inv, 20, 1, 8, "[das:children] includes undefined group 'indexers'", "indexers") + total(2)
      ),
      (
        "unterminated-quote", try badInput("unterminated-quote", inventory: { $0.replacingOccurrences(of: h3 + "\n", with: h3 + " das_port_offset=\"1\n") }),
        diag(inv, 7, h3.count + 18, 1, "unterminated quote in host line: expected a closing quote", h3 + " das_port_offset=\"1") + total(1)
      ),
      (
        "unknown-task-kind", try badInput("unknown-task-kind", project: [("Modules/das-spark/tasks.dasp", "\" properties \"", "\" propertes \"")]),
        diag(spark, 4, 26, 9, "unknown task kind 'propertes' (did you mean 'properties'?)", sparkLine.replacingOccurrences(of: " properties ", with: " propertes ")) + total(1)
      ),
      (
        "syntax-error", try badInput("syntax-error", project: [("Modules/das-spark/tasks.dasp", "\"carbon.spark.master.count\" = 2", "\"carbon.spark.master.count\" = (2")]),
        diag(spark, 6, 3, 3, "expected ')' to close the parenthesis, found 'set'", #"  set "carbon.das.symbolic.link" = das_link"#) + total(1)
      ),
      (
        "undefined-in-task", try badInput("undefined-in-task", project: [("Modules/das-spark/tasks.dasp", "\"{{ das_home }}/repository/conf/analytics", "\"{{ das_hom }}/repository/conf/analytics")]),
        diag(spark, 4, 41, 7, "undefined variable 'das_hom' (did you mean 'das_home'?) (on hosts host1, host2)", sparkLine.replacingOccurrences(of: "das_home", with: "das_hom")) + total(1)
      ),
      (
        "undefined-in-template", try badInput("undefined-in-template", project: [("Modules/das-datasources/templates/datasource.xml", "{{ db_user }}", "{{ db_usr }}")]),
        diag(
          "\(datasources)/templates/datasource.xml", 10, 26, 20,
          "undefined variable 'db_usr' in template (did you mean 'db_user'?) (on hosts host1, host2, host3, host4 and 4 more)",
          "            <username>{{ db_usr }}</username>") + total(1)
      ),
      (
        "missing-template", try badInput("missing-template", project: [("Modules/das-datasources/tasks.dasp", "from \"datasource.xml\"", "from \"datasource-v2.xml\"")]),
        diag(
          "\(datasources)/tasks.dasp", 8, 91, 19, "no template 'datasource-v2.xml' in \(datasources)/templates (did you mean 'datasource.xml'?)",
          fragmentLine.replacingOccurrences(of: "\"datasource.xml\"", with: "\"datasource-v2.xml\"")) + total(1)
      ),
      (
        "three-analyzers", try badInput("three-analyzers", inventory: { $0.replacingOccurrences(of: "\n[indexers]", with: h3 + "\n[indexers]") }),
        diag(inv, 5, 1, 5, "group 'analyzers' has 3 hosts (host1, host2, host3); a fully distributed HA cluster needs exactly 2 (set das_nodes_per_role to change this)", h3)
          + diag(inv, 5, 1, 5, "host host3 is in more than one role (indexers, analyzers); each DAS node has one start profile (set das_allow_shared_roles=true to allow it)", h3)
          + total(2)
      ),
      (
        "two-roles", try badInput("two-roles", inventory: { $0.replacingOccurrences(of: "[presenters]\n", with: "[presenters]\n\(h6)\n") }),
        diag(inv, 17, 1, 5, "group 'presenters' has 3 hosts (host6, host7, host8); a fully distributed HA cluster needs exactly 2 (set das_nodes_per_role to change this)", h8)
          + diag(inv, 12, 1, 5, "host host6 is in more than one role (receivers, presenters); each DAS node has one start profile (set das_allow_shared_roles=true to allow it)", h6)
          + total(2)
      ),
      (
        "port-offset-overflow", try badInput("port-offset-overflow", inventory: { $0.replacingOccurrences(of: h3 + "\n", with: "\(h3) \(offset)\n") }),
        diag(inv, 7, h3.count + 2, offset.count, "\(offset) puts the https port of host host3 outside 1-65535", "\(h3) \(offset)") + total(1)
      ),
    ]
    for c in cases {
      let r = try await sandbox.dasprov(c.input.args)
      #expect(r.status == 1, "\(c.name): exit \(r.status)\n\(r.all)")
      #expect(r.stdout.isEmpty, "\(c.name): \(r.stdout)")
      #expect(r.stderr.replacingOccurrences(of: c.input.dir, with: "$DIR") == c.stderr, "\(c.name)")
    }
    #expect(hostsConnected(since: sizes).isEmpty, "bad input reached a host: \(hostsConnected(since: sizes))")
  }

  // MARK: - Found on one host

  /// One node's axis2.xml does not parse and another node's event-processor.xml is missing: each
  /// fails with its file (and libxml2's line and column), its files stay as they were, every
  /// other node gets its configuration, and the roll stops before the first role with a failed
  /// node (the analyzers, before it, restart).
  @Test func aBrokenOrMissingFileOnOneHostFailsOnlyThatHost() async throws {
    try await sandbox.reset()
    try await withCleanup {
      let axis2 = "\(das)/repository/conf/axis2/axis2.xml", ep = "\(das)/repository/conf/event-processor.xml"
      let broken = try #require(sandbox.read("host3", axis2)?.replacingOccurrences(of: "</clustering>", with: "</clustering"))
      try broken.write(toFile: sandbox.local("host3", axis2), atomically: false, encoding: .utf8)
      try FileManager.default.removeItem(atPath: sandbox.local("host5", ep))
      // libxml2's own account of the broken file, through xmllint: "FILE:LINE: parser error : …".
      let lint = try await sandbox.run("/usr/bin/xmllint", ["--noout", sandbox.local("host3", axis2)])
      let line = try #require(lint.stderr.split(separator: ":").dropFirst().first.flatMap { Int($0) }, "\(lint.stderr)")
      let before3 = tree("host3", "\(das)/repository/conf"), before5 = tree("host5", "\(das)/repository/conf")

      let began = Date()
      let r = try await sandbox.dasprov(["apply", sandbox.inventory])
      #expect(r.status == 3, "\(r.all)")
      let failed = r.stdout.split(separator: "\n").filter { $0.contains(": FAILED: ") }
      #expect(failed.count == 2, "\(r.stdout)")
      #expect(failed.contains { $0.hasPrefix("host3: FAILED: Modules/das-clustering/tasks.dasp:") && $0.hasSuffix("\(axis2):\(line):5: expected '>'") }, "\(failed)")
      #expect(failed.contains { $0.hasPrefix("host5: FAILED: Modules/das-event-processor/tasks.dasp:") && $0.hasSuffix("\(ep) on host5 does not exist") }, "\(failed)")
      #expect(tree("host3", "\(das)/repository/conf") == before3, "host3's files changed")
      #expect(tree("host5", "\(das)/repository/conf") == before5, "host5's files changed")
      for host in allHosts where !["host3", "host5"].contains(host) {
        #expect(r.recap(host)?["failed"] == 0 && (r.recap(host)?["changed"] ?? 0) > 0, "\(host): \(r.stdout)")
        #expect(try await sandbox.xpath(host, axis2, "string(/axisconfig/clustering/@enable)") == "true", "\(host)")
      }
      #expect(r.stdout.contains("rolling restart halted at play 'indexers': host host3 failed."), "\(r.stdout)")
      for host in allHosts { #expect(startTimes(host).filter { $0.0 >= began }.count == (["host1", "host2"].contains(host) ? 1 : 0), "\(host)") }
    } cleanup: {
      try? await sandbox.reset()
    }
  }

  // MARK: - Values that must arrive byte for byte

  /// A password with `<&"'`, `]]>`, a newline, `$(…)` and backticks, and a DAS home and link
  /// with spaces, `$(…)` and backticks: legal, so they must arrive exactly (XML read back with
  /// xmllint, the link, the server started through it, MariaDB's login), run nothing on the way,
  /// and a re-run changes nothing. A newline in das_link is not legal in spark-defaults.conf:
  /// that node fails with the place and the reason, and nothing on it changes.
  @Test func specialValuesArriveExactlyOrAreRefused() async throws {
    try await sandbox.reset()
    let home = "/opt/wso2 das $(touch PWNED) `touch PWNED2`", link = "/opt/das link"
    let password = "Sp<&\"'ec]]>ial\nline two $(touch /opt/PWNED3) `id` ~"
    try await withCleanup {
      let traps = ["/root/PWNED", "/root/PWNED2", "/opt/PWNED3"]  // where the commands would write (the login's cwd is /root)
      for path in traps { try? FileManager.default.removeItem(atPath: sandbox.local("host2", path)) }
      try FileManager.default.copyItem(atPath: sandbox.local("host2", das), toPath: sandbox.local("host2", home))
      let dir = "\(sandbox.state)/special"
      try? FileManager.default.removeItem(atPath: dir)
      for d in ["group_vars", "host_vars"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(d)", withIntermediateDirectories: true) }
      let inventory = try String(contentsOfFile: sandbox.inventory, encoding: .utf8).replacingOccurrences(of: "db_password=Das-Sandbox-Pw1\n", with: "")
      try inventory.write(toFile: "\(dir)/inventory.ini", atomically: true, encoding: .utf8)
      func yaml(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\"" }
      try "db_password: \(yaml(password))\n".write(toFile: "\(dir)/group_vars/all.yml", atomically: true, encoding: .utf8)
      try "das_home: \(yaml(home))\ndas_link: \(yaml(link))\n".write(toFile: "\(dir)/host_vars/host2.yml", atomically: true, encoding: .utf8)
      try "das_link: \(yaml("/opt/das\nlink"))\n".write(toFile: "\(dir)/host_vars/host1.yml", atomically: true, encoding: .utf8)

      let began = Date()
      let r = try await sandbox.dasprov(["apply", "\(dir)/inventory.ini", "--limit", "host2:db1"])
      #expect(r.status == 0, "\(r.all)")
      let conf = "\(home)/repository/conf/datasources"
      for (file, ds) in [("master-datasources.xml", "WSO2UM_DB"), ("analytics-datasources.xml", "WSO2_ANALYTICS_EVENT_STORE_DB")] {
        #expect(try await sandbox.xpath("host2", "\(conf)/\(file)", "string(//datasource[name='\(ds)']/definition/configuration/password)") == password, "\(file)")
      }
      #expect(try FileManager.default.destinationOfSymbolicLink(atPath: sandbox.local("host2", link)) == home)
      let starts = (sandbox.read("host2", "\(home)/repository/logs/starts.log") ?? "").split(separator: "\n")
      #expect(starts.count == 1 && starts[0].contains("carbon_home=\(link) "), "\(starts)")
      #expect(try await login(password), "MariaDB does not take the password")
      for path in traps { #expect(!FileManager.default.fileExists(atPath: sandbox.local("host2", path)), "a value ran as a command on host2: \(path)") }
      let again = try await sandbox.dasprov(["apply", "\(dir)/inventory.ini", "--limit", "host2:db1"])
      #expect(again.status == 0 && again.recap("host2")?["changed"] == 0 && again.recap("db1")?["changed"] == 0, "\(again.stdout)")
      #expect(startTimes("host2").filter { $0.0 >= began }.isEmpty, "host2's standard home was restarted")

      let opt = tree("host1", "/opt")
      let refused = try await sandbox.dasprov(["apply", "\(dir)/inventory.ini", "--limit", "host1"])
      #expect(refused.status == 3, "\(refused.all)")
      #expect(refused.stdout.contains("host1: FAILED: Modules/das-spark/tasks.dasp:6:36: error: host1: task 'das-spark : two Spark masters' failed: value of carbon.das.symbolic.link must not contain a newline"), "\(refused.stdout)")
      #expect(tree("host1", "/opt") == opt, "host1 changed")
    } cleanup: {
      // The stand-in server runs from the special home; stop it, or it keeps host2's port.
      if let pid = sandbox.read("host2", "\(home)/wso2carbon.pid").flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
        (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.contains("fake-carbon.py") == true
      {
        kill(pid, SIGTERM)
      }
      for p in [home, link] { try? FileManager.default.removeItem(atPath: sandbox.local("host2", p)) }
      try? await sandbox.reset()
    }
  }
}
