import DasprovCore
import DasprovEngine
import Foundation
import Testing

/// Bad inputs that need no host: each must be an error with its file, line and column, found by
/// `Workspace.load` or `validate`, that is before `apply` contacts anything. The rendered text is
/// compared whole, as users read it. The integration suite runs the same kinds of input through
/// the command line and checks that no SSH session happens.
@Suite struct BadInputValidationTests {
  static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// A scratch directory with an inventory (the sandbox's, edited) and, when asked, a copy of the
  /// project's Playbooks and Modules to break.
  final class Case {
    let dir: String
    var inventory: String { dir + "/inventory.ini" }
    var project: String { dir + "/project" }

    init(inventory edit: (String) -> String = { $0 }, copyProject: Bool = false) throws {
      dir = FileManager.default.temporaryDirectory.appendingPathComponent("dasprov-bad-\(UUID().uuidString)").path
      let fm = FileManager.default
      try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
      // The sandbox's inventory names its connector jar, which exists only where a sandbox runs.
      let base = try String(contentsOfFile: root + "/Inventories/sandbox.ini", encoding: .utf8)
        .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("mysql_jdbc_jar=") }.joined(separator: "\n")
      try edit(base).write(toFile: inventory, atomically: true, encoding: .utf8)
      if copyProject {
        try fm.createDirectory(atPath: project, withIntermediateDirectories: true)
        for d in ["Playbooks", "Modules"] { try fm.copyItem(atPath: root + "/" + d, toPath: project + "/" + d) }
      }
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// Replaces `old` (which must be there) with `new` in a project file.
    func edit(_ file: String, _ old: String, _ new: String) throws {
      let path = project + "/" + file
      let text = try String(contentsOfFile: path, encoding: .utf8)
      #expect(text.contains(old), "\(file) has no '\(old)'")
      try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// What `dasprov apply` prints before it gives up, with this directory shown as `$DIR`.
    func diagnostics() -> String {
      let found: [Diagnostic]
      let reporting = Reporting()
      do throws(DiagnosticList) {
        let workspace = try Workspace.load(
          inventory: inventory, root: FileManager.default.fileExists(atPath: project) ? project : root, playbook: nil, limit: nil,
          reporting: reporting)
        found = workspace.validate().filter { $0.severity == .error }
      } catch {
        found = error.diagnostics
      }
      return reporting.renderer(color: false).render(found).replacingOccurrences(of: dir, with: "$DIR")
    }
  }

  @Test func aPortOffsetOutOfRangeIsAnErrorNotAnOverflowTrap() throws {
    // 2^63 - 1 made `9443 + offset` trap (SIGILL) in validate, topology and apply.
    for offset in ["9223372036854775807", "70000", "-9443"] {
      let c = try Case { $0.replacingOccurrences(of: "host3 ansible_host=127.0.0.13", with: "host3 ansible_host=127.0.0.13 das_port_offset=\(offset)") }
      let column = String(repeating: " ", count: 30)
      #expect(c.diagnostics() == """
        $DIR/inventory.ini:7:31: error: das_port_offset=\(offset) puts the https port of host host3 outside 1-65535
        host3 ansible_host=127.0.0.13 das_port_offset=\(offset)
        \(column)^\(String(repeating: "~", count: offset.count + 15))

        """)
    }
  }

  @Test func theDatabaseCheckKeepsAnyPasswordInsideItsOptionFile() throws {
    // A newline ended the value in the option file, and a line DASPROV_MYCNF ended the
    // here-document: the rest of the password ran as a shell command, as root.
    let password = "two\nlines<&>\"'\\\nDASPROV_MYCNF\ntouch /PWNED #\r\t$(x)`y`"
    let script = DatabaseCheckProgram(host: "db", port: 3306, user: "das\nuser", password: password, databases: ["userdb"], timeoutSeconds: 5).program.text
    let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
    let start = try #require(lines.firstIndex { $0.hasPrefix("check_database <<'") })
    let marker = lines[start].split(separator: "'")[1]
    let end = try #require(lines[(start + 1)...].firstIndex { $0 == marker })
    let body = Array(lines[(start + 1)..<end])
    #expect(body.count == 4 && body[0] == "[client]" && body[3] == "connect-timeout=5", "\(body)")
    #expect(body[1] == #"user="das\nuser""#)
    // MySQL's option-file escapes, undone, give the password back byte for byte.
    let quoted = body[2].dropFirst("password=\"".count).dropLast()
    var decoded = ""
    var escape = false
    for ch in quoted.unicodeScalars {
      if escape {
        decoded.unicodeScalars.append(["n": "\n", "r": "\r", "t": "\t"][ch] ?? ch)
        escape = false
      } else if ch == "\\" {
        escape = true
      } else {
        decoded.unicodeScalars.append(ch)
      }
    }
    #expect(decoded == password)
    #expect(!script.contains("touch /PWNED #\r"))
  }
}
