import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

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
