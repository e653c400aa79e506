import Foundation
import Testing

extension Cluster {
  /// Every task kind, on real hosts, through a small project of its own.
  @Test func everyTaskKindOnRealHosts() async throws {
    try await sandbox.reset()
    let project = Sandbox.projectRoot + "/Tests/IntegrationTests/Fixtures/kinds-project"
    let host = "host3"
    let base = "/opt/kinds-test"
    try? FileManager.default.removeItem(atPath: sandbox.local(host, base))
    try FileManager.default.createDirectory(atPath: sandbox.local(host, "\(base)/state"), withIntermediateDirectories: true)
    for s in ["1_a", "2_a", "3_a"] { try Data().write(to: URL(fileURLWithPath: sandbox.local(host, "\(base)/state/\(s)"))) }
    // The file the xml task edits is there before (as a product's config file would be).
    try Data("<?xml version=\"1.0\"?>\n<doc version=\"1\">\n    <!-- entries below -->\n</doc>\n".utf8)
      .write(to: URL(fileURLWithPath: sandbox.local(host, "\(base)/doc.xml")))
    let args = ["apply", sandbox.inventory, "--project", project, "--limit", host]
    let r = try await sandbox.dasprov(args)
    #expect(r.status == 0, "\(r.all)")
    #expect(r.recap(host)?["changed"] == 11, "\(r.stdout)")
    func mode(_ p: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: sandbox.local(host, p))[.posixPermissions] as? Int) ?? -1 }
    #expect(try mode(base) == 0o750)
    let conf = sandbox.read(host, "\(base)/app.conf") ?? ""
    #expect(conf == "# rendered for host3 (RedHat)\ngreeting=hello\npeers=host1,host2\n", "\(conf)")
    #expect(sandbox.read(host, "\(base)/settings.properties") == "mode cluster\ngreeting hello\n")
    #expect(sandbox.read(host, "\(base)/marker") == "# managed by dasprov\n")
    #expect(try mode("\(base)/app.conf") == 0o640)
    #expect(try mode("\(base)/marker") == 0o600)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: sandbox.local(host, "\(base)/current")) == "\(base)/app.conf")
    #expect(sandbox.bytes(host, "\(base)/copied.xml") == Array((try String(contentsOfFile: project + "/Modules/kinds/files/doc.xml", encoding: .utf8)).utf8))
    #expect(try await sandbox.xpath(host, "\(base)/doc.xml", "string(/doc/@version)") == "2")
    #expect(try await sandbox.xpath(host, "\(base)/doc.xml", "string(/doc/entry[@name='host3'])") == "hello")
    #expect(sandbox.read(host, "\(base)/doc.xml")?.contains("<!-- entries below -->") == true, "the comment survived the edit")
    #expect(sandbox.read(host, "\(base)/command.log") == "ran\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.local(host, "\(base)/state")) == ["3_a"])
    let again = try await sandbox.dasprov(args)
    #expect(again.status == 0)
    #expect(again.recap(host)?["changed"] == 0, "every kind is idempotent: \(again.stdout)")
    #expect(sandbox.read(host, "\(base)/command.log") == "ran\n", "the guarded command ran twice")
  }

  /// The SVN deployment synchronizer instead of pushed C-Apps: enabled everywhere, one committer.
  @Test func deploymentSynchronizerHasExactlyOneCommitter() async throws {
    try await sandbox.reset()
    let inventory = try sandbox.inventoryVariant("depsync.ini") {
      $0 + "das_depsync_svn_url=https://svn.example.com/das/\ndas_depsync_svn_user=deployer\ndas_depsync_svn_password=Svn-Secret-9\n"
    }
    let r = try await sandbox.dasprov(["apply", inventory, "--json"])
    #expect(r.status == 0, "\(r.all)")
    #expect(!r.all.contains("Svn-Secret-9"), "the SVN password leaked")
    for host in allHosts {
      let carbon = sandbox.local(host, "\(das)/repository/conf/carbon.xml")
      func value(_ name: String) async throws -> String {
        try await sandbox.run("/usr/bin/xmllint", ["--xpath", "string(/*[local-name()='Server']/*[local-name()='DeploymentSynchronizer']/*[local-name()='\(name)'])", carbon]).stdout
          .trimmingCharacters(in: .whitespacesAndNewlines)
      }
      #expect(try await value("Enabled") == "true")
      #expect(try await value("AutoCheckout") == "true")
      #expect(try await value("AutoCommit") == (host == "host7" ? "true" : "false"), "\(host)")
      #expect(try await value("SvnUrl") == "https://svn.example.com/das/")
      #expect(try await value("SvnPassword") == "Svn-Secret-9")
    }
  }
}
