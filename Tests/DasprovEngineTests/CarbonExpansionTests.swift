import DasprovCore
import DasprovInventory
import Foundation
import Testing

@testable import DasprovEngine

/// Carbon expands `${…}` in the XML it reads (FACTS.md §10): an inventory value that a task
/// writes into repository/conf XML and holds `${` is an error where it is set, found before any
/// host is touched. Which values those are comes from the tasks themselves.
@Suite struct CarbonExpansionTests {
  typealias Case = BadInputValidationTests.Case

  /// The errors of `validate`, rendered, with the scratch directory shown as `$DIR`.
  func errors(_ c: Case, limit: String? = nil, vault: VaultSecrets = VaultSecrets()) throws -> String {
    let root = FileManager.default.fileExists(atPath: c.project) ? c.project : BadInputValidationTests.root
    let workspace = try Workspace.load(inventory: c.inventory, root: root, playbook: nil, limit: limit, vault: vault, reporting: Reporting())
    return DiagnosticRenderer(sources: workspace.reporting.sources).render(workspace.validate().filter { $0.severity == .error }).replacingOccurrences(of: c.dir, with: "$DIR")
  }

  static let why = "Carbon expands ${…} in repository/conf XML (the product would read it as a system property)"
  static let all8 = "(on hosts host1, host2, host3, host4 and 4 more)"

  @Test func aPasswordWithDollarBraceIsAnErrorAtItsLine() throws {
    for password in ["Pw${user.home}", "a}b${c"] {
      let c = try Case { $0.replacingOccurrences(of: "db_password=Das-Sandbox-Pw1", with: "db_password=\(password)") }
      let line = "db_password=\(password)"
      #expect(try errors(c) == """
        $DIR/inventory.ini:35:1: error: db_password contains '${': \(Self.why), and this value goes into repository/conf/datasources/master-datasources.xml; use a value without '${' \(Self.all8)
        \(line)
        ^\(String(repeating: "~", count: line.count - 1))

        """)
    }
  }

  @Test func aTemplatedValueIsCheckedAsRenderedAndReportedWhereTheDollarBraceIsWritten() throws {
    let c = try Case { $0.replacingOccurrences(of: "db_password=Das-Sandbox-Pw1", with: "db_password=\"{{ vault_db_password }}\"") }
    try FileManager.default.createDirectory(atPath: c.dir + "/group_vars/all", withIntermediateDirectories: true)
    // ansible-vault encrypt (password dasprov-test) of: vault_db_password: "Pw-${user.home}-1"
    try """
      $ANSIBLE_VAULT;1.1;AES256
      32306533326633386435323066393962373335626335666265346166366535326133363265666162
      6230396135333663383135646663366436303038336463310a306639376231643731653166363938
      30353033663761343033366230356263636264343832383164346139616437326132633030326535
      3230323738636535620a333534383437656539343962346665303866663035656232373937656331
      35333634306635316639316235633763633830616330616163373466376139666437613136316263
      3339613166393330653137393031353562353535343061383639

      """.write(toFile: c.dir + "/group_vars/all/vault.yml", atomically: true, encoding: .utf8)
    let vault = VaultSecrets([VaultSecret(label: "default", password: Array("dasprov-test".utf8))])
    let rendered = try errors(c, vault: vault)
    // The vault file's plaintext is never quoted: the header and the note only.
    #expect(rendered.hasPrefix("""
      $DIR/group_vars/all/vault.yml:1:1: error: vault_db_password contains '${', and db_password is templated from it: \(Self.why), and this value goes into repository/conf/datasources/master-datasources.xml; use a value without '${' \(Self.all8)
      """), "\(rendered)")
    #expect(rendered.contains("$DIR/inventory.ini:35:1: note: db_password is set here\ndb_password=\"{{ vault_db_password }}\"\n"), "\(rendered)")
    #expect(!rendered.contains("Pw-"), "\(rendered)")
  }

  @Test func onlyValuesWrittenIntoCarbonXMLAreChecked() throws {
    // das_home is a path, not written into XML; the committer is only compared with the host's
    // name; 'note' is read by nothing; db1's own password reaches no DAS node; the SVN password
    // is written only with an SVN URL.
    let c = try Case {
      $0.replacingOccurrences(of: "db1 ansible_host=127.0.0.10", with: "db1 ansible_host=127.0.0.10 db_password=x${y}")
        + "das_home=/opt/${x}/das\ndas_depsync_committer=${host7}\nnote=${anything}\ndas_depsync_svn_password=p${w}\n"
    }
    #expect(try errors(c) == "")
  }

  @Test func theSVNPasswordCountsOnceThereIsAnSVNURL() throws {
    let c = try Case { $0 + "das_depsync_svn_url=https://svn.example.com/das\ndas_depsync_svn_password=p${w}\n" }
    #expect(try errors(c) == """
      $DIR/inventory.ini:37:1: error: das_depsync_svn_password contains '${': \(Self.why), and this value goes into repository/conf/carbon.xml; use a value without '${' \(Self.all8)
      das_depsync_svn_password=p${w}
      ^\(String(repeating: "~", count: 29))

      """)
  }

  @Test func anotherHostsAddressCountsWhereItIsWritten() throws {
    // host2's address goes into host1's axis2.xml member list: an error with only host1 in
    // the run, at host2's line.
    let h2 = "host2 ansible_host=127.0.0.12 das_address=10.0.${a}.2"
    let c = try Case { $0.replacingOccurrences(of: "host2 ansible_host=127.0.0.12", with: h2) }
    #expect(try errors(c, limit: "host1") == """
      $DIR/inventory.ini:4:31: error: das_address contains '${': \(Self.why), and this value goes into repository/conf/axis2/axis2.xml; use a value without '${' (on host host2)
      \(h2) das_java_home=/opt/jdk1.8.0-standin
      \(String(repeating: " ", count: 30))^\(String(repeating: "~", count: 22))

      """)
  }

  @Test func whatIsCheckedFollowsTheTasks() throws {
    // A new task writing a new variable into Carbon's XML is covered without a list to update;
    // the same value written into a file Carbon does not expand is not.
    let c = try Case(inventory: { $0 + "svn_note=r${1}\nother_note=r${2}\n" }, copyProject: true)
    try c.edit(
      "Modules/das-spark/tasks.dasp", "  notify restart\n}",
      """
        notify restart
      }

      task "a note in carbon.xml" xml "{{ das_home }}/repository/conf/carbon.xml" {
        set "/Server/Note" = svn_note
      }

      task "a note elsewhere" xml "{{ das_home }}/notes.xml" {
        set "/notes/note" = other_note
      }
      """)
    let out = try errors(c)
    #expect(out.contains("error: svn_note contains '${'") && out.contains("goes into repository/conf/carbon.xml"), "\(out)")
    #expect(!out.contains("other_note"), "\(out)")
  }
}
