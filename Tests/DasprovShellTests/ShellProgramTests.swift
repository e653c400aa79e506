import DasprovCore
import Foundation
import Testing

@testable import DasprovShell

/// The programs' directory in the source tree.
let programsDirectory: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path + "/Sources/DasprovShell/Programs"
}()

@Suite struct ShellProgramTests {
  /// The binary carries the programs; they must be the .sh files as they are in the tree.
  @Test func theEmbeddedProgramsAreTheFilesInTheTree() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: programsDirectory).filter { $0.hasSuffix(".sh") }.sorted()
    #expect(names == ProgramSources.files.keys.sorted(), "run 'make programs' after adding or removing a program")
    for name in names {
      let text = try String(contentsOfFile: programsDirectory + "/" + name, encoding: .utf8)
      #expect(ProgramSources.files[name] == text, "\(name) changed: run 'make programs'")
    }
  }

  @Test func parametersAndStepsAreQuotedAndIncludesInlined() {
    var p = ShellProgram("apply.sh")
    p.set("RUN", "r1")
    p.set("HOST", "it's $(x)")
    p.step("link", ["0", "/opt/a b", "`t`"])
    let text = p.text
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.first == "#!/bin/sh")
    #expect(lines[1] == "RUN=r1")
    #expect(lines[2] == #"HOST='it'\''s $(x)'"#)
    #expect(text.contains("\nlink 0 '/opt/a b' '`t`'\nprintf '@applied\\n'\n"), "the step goes where '# @steps' is")
    #expect(!text.contains(". ./prologue.sh") && text.contains("LC_ALL=C; export LC_ALL"), "prologue.sh is inlined")
    #expect(text.contains("atomic_commit() {"), "atomic.sh is inlined")
    #expect(!text.contains("# shellcheck"))
    #expect(!text.contains("# @steps"))
  }

  @Test func payloadsTravelAsBase64AndAreHiddenOnDisplay() {
    var p = ShellProgram("apply.sh")
    p.set("RUN", "r1")
    p.set("HOST", "h")
    let secret = Array("<password>s3cret-value</password>\n".utf8)
    p.step("write", ["0", "/a.xml", "", "", ""], input: secret)
    let encoded = Data(secret).base64EncodedString()
    #expect(p.text.contains(encoded))
    #expect(!p.displayText.contains(encoded))
    #expect(p.displayText.contains("[1 lines of base64 not shown]"))
  }

  @Test func textPayloadsGetAMarkerNoLineOfThemHolds() {
    var p = ShellProgram("database-check.sh")
    for (k, v) in [("H", "db"), ("P", "3306"), ("U", "u"), ("TO", "5")] { p.set(k, v) }
    p.step("check_database", [], text: "a\nDASPROV_TEXT_0\nb")
    let lines = p.text.split(separator: "\n", omittingEmptySubsequences: false)
    let open = lines.first { $0.hasPrefix("check_database <<'") }
    #expect(open == "check_database <<'DASPROV_TEXT_0_'")
  }

  @Test func eventLinesAreTagAndRest() {
    let lines = ProgramLine.lines(Array("noise\n@done 3\n@fail 2 disk full\n@applied\n".utf8))
    #expect(lines.map(\.tag) == ["done", "fail", "applied"])
    #expect(lines[1].rest == "2 disk full")
    #expect(lines[2].rest == "")
  }
}
