import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

#if canImport(Glibc)
  import Glibc
#endif

/// Every authentication method against a real sshd, in OpenSSH's order.
@Suite struct AuthTests {
  @Test(arguments: ["id_ed25519", "id_ecdsa"])
  func keyFile(_ key: String) throws {
    let s = try SSHSession.connect(SSHD.shared.options(key: key))
    defer { s.close() }
    #expect(s.authenticatedWith == "publickey \(TestWorld.shared.key(key))")
    #expect(try s.exec(RemoteCommand("id", "-un")).stdoutText == TestWorld.user + "\n")
  }

  /// libssh2 1.10 signs RSA user keys with ssh-rsa (SHA-1) only; OpenSSH 9 refuses that by
  /// default, so the failure must say why, and a server that allows ssh-rsa must accept the key.
  @Test func rsaKeyFile() throws {
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(SSHD.shared.options(key: "id_rsa")) }
    #expect(error.message.contains("RSA: libssh2 1.10.0 signs it with ssh-rsa/SHA-1"))
    let lenient = try SSHD(extraConfig: "PubkeyAcceptedAlgorithms +ssh-rsa")
    defer { lenient.stop() }
    let s = try SSHSession.connect(lenient.options(key: "id_rsa"))
    defer { s.close() }
    #expect(s.authenticatedWith == "publickey \(TestWorld.shared.key("id_rsa"))")
  }

  @Test func encryptedKeyWithPassphraseFromEnvironment() throws {
    let options = SSHD.shared.options(key: "id_encrypted", env: ["DASPROV_SSH_PASSPHRASE": TestWorld.passphrase])
    let s = try SSHSession.connect(options)
    defer { s.close() }
    #expect(s.authenticatedWith == "publickey \(TestWorld.shared.key("id_encrypted"))")
  }

  @Test func encryptedKeyWithoutPassphraseIsSkippedWithAHint() throws {
    // stdin of the test runner is not a TTY, so there must be no prompt, only a message.
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(SSHD.shared.options(key: "id_encrypted")) }
    guard case .authenticationFailed(let tried, let offered) = error.kind else { Issue.record("\(error)"); return }
    #expect(tried.contains { $0.contains("encrypted; set DASPROV_SSH_PASSPHRASE") })
    #expect(offered.contains("publickey") && offered.contains("password"))
  }

  @Test func password() throws {
    let options = SSHD.shared.options(key: nil, env: ["DASPROV_SSH_PASSWORD": TestWorld.password])
    let s = try SSHSession.connect(options)
    defer { s.close() }
    #expect(s.authenticatedWith == "password")
  }

  @Test func passwordFromInventoryOption() throws {
    var options = SSHD.shared.options(key: nil)
    options.password = TestWorld.password
    let s = try SSHSession.connect(options)
    defer { s.close() }
    #expect(s.authenticatedWith == "password")
  }

  @Test func failureListsWhatWasTriedAndWhatTheServerOffers() throws {
    let options = SSHD.shared.options(key: "id_unauthorized", env: ["DASPROV_SSH_PASSWORD": "wrong"])
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(options) }
    guard case .authenticationFailed(let tried, let offered) = error.kind else { Issue.record("\(error)"); return }
    #expect(tried == ["publickey \(TestWorld.shared.key("id_unauthorized"))", "password"])
    #expect(offered == ["publickey", "password"])
    #expect(error.description.contains("tried publickey"))
    #expect(error.description.contains("the server offers publickey,password"))
  }

  @Test func agentComesFirst() throws {
    let dir = TestWorld.shared.localDir("agent")
    let socket = dir + "/agent.sock"
    let agent = try #require(spawnLocal(["/usr/bin/ssh-agent", "-D", "-a", socket]))
    defer {
      kill(agent, SIGTERM)
      waitLocal(agent)
    }
    for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { usleep(20_000) }
    let added = runLocal(["/usr/bin/ssh-add", TestWorld.shared.key("id_agent")], environment: ["SSH_AUTH_SOCK": socket])
    #expect(added.status == 0, "\(added.err)")
    // A valid key file is given too: the agent must be tried (and succeed) first.
    let s = try SSHSession.connect(SSHD.shared.options(key: "id_ed25519", env: ["SSH_AUTH_SOCK": socket]))
    defer { s.close() }
    #expect(s.authenticatedWith.hasPrefix("agent"))
    #expect(s.authenticatedWith.contains("id_agent"))
  }
}
