import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

@Suite struct SSHConfigTests {
  let config = SSHConfig(parsing: """
    # global
    IdentityFile ~/.ssh/global_key

    Host das-* !das-skip
      User wso2
      Port=2200
      IdentityFile "~/.ssh/das key"

    Host das-?1 db
      HostName %h.example.net
      User ignored-because-first-wins
      Port 2201

    Match host *
      User never

    Host *
      User fallback
      IdentityFile %d/.ssh/id_%u
    """)

  @Test func firstValueWinsAndIdentityFilesAccumulate() {
    let m = config.resolve(host: "das-a1", home: "/home/me", localUser: "me")
    #expect(m.user == "wso2")
    #expect(m.port == 2200)
    #expect(m.hostName == "das-a1.example.net")
    #expect(m.identityFiles == ["/home/me/.ssh/global_key", "/home/me/.ssh/das key", "/home/me/.ssh/id_me"])
  }

  @Test func negationAndFallbacks() {
    let skip = config.resolve(host: "das-skip", home: "/h", localUser: "u")
    #expect(skip.user == "fallback")
    #expect(skip.port == nil)
    let db = config.resolve(host: "DB", home: "/h", localUser: "u")
    #expect(db.hostName == "DB.example.net")
    #expect(db.user == "ignored-because-first-wins")
  }

  @Test func optionsWinOverConfigWhichWinsOverDefaults() throws {
    let dir = TestWorld.shared.localDir("cfg")
    try "Host das-*\n  HostName 127.0.0.9\n  User cfguser\n  Port 2222\n  IdentityFile ~/k1\n"
      .write(toFile: dir + "/config", atomically: true, encoding: .utf8)
    var options = SSHOptions(host: "das-1", sshConfigFile: dir + "/config", environment: ["HOME": "/home/x", "USER": "me"])
    var r = options.resolved()
    #expect((r.address, r.port, r.user, r.keyFiles) == ("127.0.0.9", 2222, "cfguser", ["/home/x/k1"]))
    #expect(r.knownHostsFile == "/home/x/.ssh/known_hosts")
    #expect(r.knownHostsName == "[127.0.0.9]:2222")
    options.user = "inv"
    options.port = 22
    options.privateKeyFiles = ["~/inv_key"]
    r = options.resolved()
    #expect((r.port, r.user, r.keyFiles) == (22, "inv", ["/home/x/inv_key"]))
    #expect(r.knownHostsName == "127.0.0.9")
    let plain = SSHOptions(host: "h", sshConfigFile: "", environment: ["HOME": "/home/x", "USER": "me", "DASPROV_SSH_PASSWORD": "pw"]).resolved()
    #expect(plain.keyFiles == ["/home/x/.ssh/id_ed25519", "/home/x/.ssh/id_ecdsa", "/home/x/.ssh/id_rsa"])
    #expect(plain.user == "me" && plain.port == 22 && plain.password == "pw" && plain.agentSocket == nil)
  }

  @Test func globs() {
    #expect(SSHConfig.glob("*", "anything"))
    #expect(SSHConfig.glob("das-??", "das-a1"))
    #expect(!SSHConfig.glob("das-??", "das-a12"))
    #expect(SSHConfig.glob("*.example.*", "a.example.net"))
    #expect(!SSHConfig.glob("a*b", "acbx"))
  }
}

@Suite struct PoolTests {
  @Test func resultsInInputOrderWithAtMostForksAtOnce() {
    final class Gauge: @unchecked Sendable {
      let lock = NSLock()
      var now = 0, peak = 0
    }
    let gauge = Gauge()
    let results = SSHPool.run(Array(0..<40), forks: 7) { i -> Int in
      gauge.lock.withLock { gauge.now += 1; gauge.peak = max(gauge.peak, gauge.now) }
      usleep(UInt32((40 - i) * 500))
      gauge.lock.withLock { gauge.now -= 1 }
      return i * i
    }
    #expect(results == (0..<40).map { $0 * $0 })
    #expect(gauge.peak == 7)
  }

  @Test func asyncVariantRunsEveryItemOnItsOwnThread() async {
    // 16 blocking sleeps with 16 forks all overlap, although the cooperative pool has 2 threads
    // here; the awaiting task is suspended, not blocking one of them.
    final class Gauge: @unchecked Sendable {
      let lock = NSLock()
      var now = 0, peak = 0
    }
    let gauge = Gauge()
    let results = await SSHPool.run(Array(0..<16), forks: 16) { i -> Int in
      gauge.lock.withLock { gauge.now += 1; gauge.peak = max(gauge.peak, gauge.now) }
      usleep(200_000)
      gauge.lock.withLock { gauge.now -= 1 }
      return i
    }
    #expect(results == Array(0..<16))
    #expect(gauge.peak == 16)
    #expect(await SSHPool.run([Int](), forks: 4) { $0 }.isEmpty)
  }

  @Test func sessionsAreReusedAndFailuresRemembered() throws {
    final class Calls: @unchecked Sendable { let lock = NSLock(); var n = 0 }
    let calls = Calls()
    let sessions = SSHSessions { (options) throws(SSHError) in
      calls.lock.withLock { calls.n += 1 }
      if options.host == "bad" { throw SSHError(.connectionRefused, host: "bad", "refused") }
      return try SSHSession.connect(SSHD.shared.options())
    }
    let good = SSHOptions(host: "good")
    let a = try sessions.transport(for: good)
    let b = try sessions.transport(for: good)
    #expect(a === b)
    #expect(throws: SSHError.self) { try sessions.transport(for: SSHOptions(host: "bad")) }
    #expect(throws: SSHError.self) { try sessions.transport(for: SSHOptions(host: "bad")) }
    #expect(calls.n == 2)
    sessions.closeAll()
    #expect(throws: SSHError.self) { try a.exec(RemoteCommand("true")) }
  }
}

@Suite struct HashTests {
  @Test func privateKeyEncryptionIsDetected() {
    #expect(PrivateKeyFile.isEncrypted(path: TestWorld.shared.key("id_encrypted")))
    #expect(!PrivateKeyFile.isEncrypted(path: TestWorld.shared.key("id_ed25519")))
    #expect(!PrivateKeyFile.isEncrypted(path: TestWorld.shared.key("id_rsa")))
    #expect(PrivateKeyFile(path: TestWorld.shared.key("id_rsa")).keyType == "ssh-rsa")
    #expect(PrivateKeyFile(path: TestWorld.shared.key("id_encrypted")).keyType == "ssh-ed25519")
    #expect(PrivateKeyFile(path: TestWorld.shared.key("id_ecdsa")).keyType == "ecdsa-sha2-nistp256")
  }

  @Test func temporaryNamesStayInTheDirectory() {
    let t = UploadPlan.temporaryName(for: "/opt/das/conf/carbon.xml")
    #expect(t.hasPrefix("/opt/das/conf/.carbon.xml.dasprov-tmp-"))
    #expect(t.count == "/opt/das/conf/.carbon.xml.dasprov-tmp-".count + 12)
    #expect(UploadPlan.temporaryName(for: "rel").hasPrefix(".rel.dasprov-tmp-"))
    let long = String(repeating: "é", count: 200)
    #expect(UploadPlan.temporaryName(for: "/d/" + long).utf8.count < 255 + 3)
  }
}
