import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

@Suite struct SmokeTests {
  @Test func connectAndExec() throws {
    let sshd = SSHD.shared
    let s = try SSHSession.connect(sshd.options())
    defer { s.close() }
    let r = try s.exec(RemoteCommand("sh", "-c", "echo out; echo err >&2; exit 3"))
    #expect(r.status == 3)
    #expect(r.stdoutText == "out\n")
    #expect(r.stderrText == "err\n")
    print(s.authenticatedWith, s.hostKeyType, s.hostKeyFingerprint, s.stats)
  }
}
