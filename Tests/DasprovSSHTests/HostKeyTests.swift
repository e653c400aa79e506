import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

/// Host key policies against a real sshd, with OpenSSH-style refusals.
@Suite struct HostKeyTests {
  @Test func unknownKeyRefusedUnderStrictWithFingerprintAndFix() throws {
    let sshd = SSHD.shared
    let empty = sshd.knownHostsFile("")
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(sshd.options(knownHosts: empty)) }
    #expect(error.kind == .hostKeyUnknown)
    #expect(error.message.contains("no ED25519 host key is known for [\(sshd.address)]:2222"))
    #expect(error.message.contains(sshd.fingerprint(0)))
    #expect(error.message.contains("ssh-keyscan -p 2222 -t ed25519 \(sshd.address) >> \(empty)"))
    #expect(error.message.contains("--host-key-checking accept-new"))
    #expect(try String(contentsOfFile: empty, encoding: .utf8) == "")
  }

  @Test func missingFileIsUnknownNotAnError() throws {
    let sshd = SSHD.shared
    let path = TestWorld.shared.localDir("kh-missing") + "/nope/known_hosts"
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(sshd.options(knownHosts: path)) }
    #expect(error.kind == .hostKeyUnknown)
  }

  @Test func acceptNewRecordsTheKeyThenStrictAccepts() throws {
    let sshd = SSHD.shared
    let path = TestWorld.shared.localDir("kh-new") + "/ssh/known_hosts"
    let s = try SSHSession.connect(sshd.options(knownHosts: path, policy: .acceptNew))
    #expect(s.warnings.count == 1)
    #expect(s.warnings[0].contains("permanently added [\(sshd.address)]:2222"))
    s.close()
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text == sshd.knownHostsLine(0))
    // OpenSSH finds the entry too.
    #expect(runLocal(["/usr/bin/ssh-keygen", "-F", "[\(sshd.address)]:2222", "-f", path]).status == 0)
    let again = try SSHSession.connect(sshd.options(knownHosts: path, policy: .strict))
    #expect(again.warnings.isEmpty)
    again.close()
  }

  @Test func changedKeyRefusedUnderStrictAndAcceptNew() throws {
    let sshd = SSHD.shared
    // Another server's ed25519 key, recorded for this server's name on line 2.
    let other = try SSHD()
    defer { other.stop() }
    let forged = other.knownHostsLine(0).replacingOccurrences(of: other.knownHostsName, with: sshd.knownHostsName)
    let path = sshd.knownHostsFile("# a comment\n" + forged)
    for policy in [HostKeyPolicy.strict, .acceptNew] {
      let error = try #require(throws: SSHError.self) { try SSHSession.connect(sshd.options(knownHosts: path, policy: policy)) }
      #expect(error.kind == .hostKeyChanged)
      #expect(error.message.contains("REMOTE HOST IDENTIFICATION HAS CHANGED for [\(sshd.address)]:2222"))
      #expect(error.message.contains("ED25519 key \(sshd.fingerprint(0))"))
      #expect(error.message.contains("\(path):2 holds a different ED25519 key"))
      #expect(error.message.contains("ssh-keygen -R '[\(sshd.address)]:2222' -f \(path)"))
    }
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "# a comment\n" + forged)
  }

  @Test func hashedEntriesAreRecognised() throws {
    let sshd = SSHD.shared
    let path = sshd.knownHostsFile()
    #expect(runLocal(["/usr/bin/ssh-keygen", "-H", "-f", path]).status == 0)
    #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("|1|"))
    let s = try SSHSession.connect(sshd.options(knownHosts: path))
    s.close()
  }

  @Test func theKnownKeyTypeIsPreferred() throws {
    // The server has ed25519 and ecdsa keys; only the ecdsa one is recorded. Without preferring
    // known types the server would pick ed25519 and the key would look unknown.
    let sshd = SSHD.shared
    let s = try SSHSession.connect(sshd.options(knownHosts: sshd.knownHostsFile(sshd.knownHostsLine(1))))
    defer { s.close() }
    #expect(s.hostKeyType == "ECDSA")
    #expect(s.hostKeyFingerprint == sshd.fingerprint(1))
  }

  @Test func unparseableLinesAreSkippedNotFatal() throws {
    let sshd = SSHD.shared
    let junk = "@cert-authority *.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
      + "this line is not a known_hosts line\n"
    let s = try SSHSession.connect(sshd.options(knownHosts: sshd.knownHostsFile(junk + sshd.knownHostsLine(0))))
    s.close()
  }

  @Test func offConnectsButWarns() throws {
    let sshd = SSHD.shared
    let s = try SSHSession.connect(sshd.options(knownHosts: sshd.knownHostsFile(""), policy: .off))
    defer { s.close() }
    #expect(s.warnings.first?.contains("host key checking is off") == true)
  }

  @Test func fingerprintMatchesOpenSSH() throws {
    let sshd = SSHD.shared
    let s = try SSHSession.connect(sshd.options())
    defer { s.close() }
    #expect(s.hostKeyFingerprint == sshd.fingerprint(0))
  }
}
