import DasprovCore
import DasprovTasks
import Foundation
import Testing

@testable import DasprovEngine

/// Two ways a secret reached the output unmasked, found by the integration suite's secrets test
/// (`secretsNeverReachTheOutput`): the old password in `--diff` of a password change, and file
/// contents in base64 in `-vvv`.
@Suite struct SecretLeakTests {
  @Test func theValueASecretReplacesIsMaskedToo() {
    let masker = SecretMasker()
    masker.add("New<&\"'Pw")
    let fragmentOld = """
      <datasource>
          <name>WSO2UM_DB</name>
          <username>das</username>
          <password>Old&lt;Pw</password>
      </datasource>
      """
    let fragmentNew = fragmentOld.replacingOccurrences(of: "Old&lt;Pw", with: "New&lt;&amp;&quot;&apos;Pw")
    let diffs: [ContentDiff] = [
      .xml(path: "/m.xml", changes: [XMLChangeLine(path: "/ds[name='A']", old: fragmentOld, new: fragmentNew)]),
      .xml(path: "/a.xml", changes: [
        XMLChangeLine(path: "/ds/password", old: "Older-Pw", new: "New<&\"'Pw"),
        XMLChangeLine(path: "/ds/username", old: "wso2", new: "das"),
      ]),
      .text(path: "/p.properties", old: "user=das\nsvn.password=Prop-Old-Pw\n", new: "user=das\nsvn.password=New<&\"'Pw\n"),
    ]
    let found = Set(DiffRenderer.replacedSecrets(diffs, masker: masker))
    #expect(found == ["Old&lt;Pw", "Old<Pw", "Older-Pw", "Prop-Old-Pw"])
  }

  @Test func verboseScriptsHideBase64Contents() {
    let content = Array("<password>Vvv-Secret</password>\n".utf8)
    let program = ApplyProgram(
      changes: [.write(path: "/opt/a.xml", content: content, mode: nil, owner: nil, group: nil), .run(argv: ["mysql"], chdir: nil, stdin: content)],
      runID: "20261125T000000000Z", notify: [], stagingDirectory: "/s", hostName: "test-host").program
    let script = program.text
    let shown = program.displayText
    let encoded = Data(content).base64EncodedString()
    #expect(script.contains(encoded))
    #expect(!shown.contains(encoded.prefix(12)), "\(shown)")
    #expect(shown.components(separatedBy: "[1 lines of base64 not shown]").count == 3)
    // Everything but the here-document bodies is shown as it is sent.
    let kept = script.split(separator: "\n").filter { !$0.contains(encoded) }
    #expect(shown.split(separator: "\n").filter { !$0.hasPrefix("[") } == kept)
  }
}
