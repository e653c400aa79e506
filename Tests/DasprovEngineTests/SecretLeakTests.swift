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
    let found = Set(DiffPrinter.replacedSecrets(diffs, masker: masker))
    #expect(found == ["Old&lt;Pw", "Old<Pw", "Older-Pw", "Prop-Old-Pw"])
  }
}
