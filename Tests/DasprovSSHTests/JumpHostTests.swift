import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

/// Tunnels through jump hosts (direct-tcpip over one bastion session) against real sshd
/// processes: the bastion's own log counts its logins.
@Suite struct JumpHostTests {
  /// `dasprov-sshtest@ADDRESS:2222`, the way `-J` names a bastion.
  static func spec(_ sshd: SSHD) -> String { "\(TestWorld.user)@\(sshd.address):2222" }

  /// Logins the sshd accepted so far.
  static func logins(_ sshd: SSHD) -> Int {
    sshd.log.components(separatedBy: "Accepted publickey for \(TestWorld.user)").count - 1
  }

  /// A known_hosts file trusting every one of `servers`.
  static func knownHosts(_ servers: [SSHD]) -> String {
    SSHD.shared.knownHostsFile(servers.map { s in s.hostKeys.indices.map { s.knownHostsLine($0) }.joined() }.joined())
  }

  struct Seen: Sendable {
    var outputs: [String]
    var sums: [Bool]
    var bastionLogins: Int
    var targetLogins: Int
    var via: [String?]
  }

  @Test func manyHostsOnManyThreadsShareOneBastionLogin() async throws {
    let seen = try await onThread { () -> Seen in
      let bastion = try SSHD()
      defer { bastion.stop() }
      let target = try SSHD()
      defer { target.stop() }
      let known = Self.knownHosts([bastion, target])
      let sessions = SSHSessions()
      defer { sessions.closeAll() }
      let payload = pattern(3_000_000, seed: 4)
      let dir = TestWorld.shared.remoteDir("jump")
      let results = SSHPool.run(Array(0..<6), forks: 6) { i -> (String, Bool, String?) in
        var o = target.options(knownHosts: known)
        o.name = "target-\(i)"
        o.proxyJump = Self.spec(bastion)
        do {
          let t = try sessions.transport(for: o)
          let out = try t.exec(RemoteCommand("sh", "-c", "echo $SSH_CONNECTION")).stdoutText
          let up = try t.upload(.data(payload), to: dir + "/f\(i)")
          let back = try t.download(dir + "/f\(i)")
          return (out, up.sha256 == SHA256.hex(payload) && back == payload, (t as? SSHSession)?.jumpHost)
        } catch {
          return ("\(error)", false, nil)
        }
      }
      return Seen(
        outputs: results.map(\.0), sums: results.map(\.1), bastionLogins: Self.logins(bastion),
        targetLogins: Self.logins(target), via: results.map(\.2))
    }
    #expect(seen.sums == Array(repeating: true, count: 6), "\(seen.outputs)")
    #expect(seen.bastionLogins == 1, "one login to the bastion for 6 hosts, got \(seen.bastionLogins)")
    #expect(seen.targetLogins == 6)
    #expect(seen.via.allSatisfy { $0?.hasPrefix("\(TestWorld.user)@127.0.6.") == true }, "\(seen.via)")
  }

  @Test func chainOfTwoBastions() async throws {
    let seen = try await onThread { () -> Seen in
      let first = try SSHD()
      defer { first.stop() }
      let second = try SSHD()
      defer { second.stop() }
      let target = try SSHD()
      defer { target.stop() }
      let jumps = JumpHosts()
      defer { jumps.closeAll() }
      var o = target.options(knownHosts: Self.knownHosts([first, second, target]))
      o.proxyJump = Self.spec(first) + "," + Self.spec(second)
      var outputs: [String] = []
      for i in 0..<2 {
        o.name = "chained-\(i)"
        let s = try SSHSession.connect(o, jumpHosts: jumps)
        outputs.append(try s.exec(RemoteCommand("echo", "through two")).stdoutText)
        s.close()
      }
      return Seen(
        outputs: outputs, sums: [], bastionLogins: Self.logins(first) * 10 + Self.logins(second),
        targetLogins: Self.logins(target), via: [])
    }
    #expect(seen.outputs == ["through two\n", "through two\n"])
    #expect(seen.bastionLogins == 11, "one login to each bastion (first*10+second)")
    #expect(seen.targetLogins == 2)
  }

  @Test func bastionWithAChangedKeyIsRefusedWithItsFingerprint() throws {
    let bastion = try SSHD()
    defer { bastion.stop() }
    let target = SSHD.shared
    let impostor = try SSHD()
    defer { impostor.stop() }
    // known_hosts holds another server's key under the bastion's name.
    let wrong = impostor.knownHostsLine(0).replacingOccurrences(of: impostor.knownHostsName, with: bastion.knownHostsName)
    let known = SSHD.shared.knownHostsFile(wrong + target.knownHostsLine(0))
    var o = target.options(knownHosts: known)
    o.proxyJump = Self.spec(bastion)
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(o) }
    #expect(error.kind == .hostKeyChanged)
    #expect(error.host == o.displayName)
    #expect(error.message.contains("jump host \(bastion.address)"), "\(error.message)")
    #expect(error.message.contains(bastion.fingerprint(0)), "\(error.message)")
    #expect(Self.logins(bastion) == 0)
  }

  @Test func aBastionKeyRecordedUnderAcceptNewIsReportedWithTheTarget() throws {
    let bastion = try SSHD()
    defer { bastion.stop() }
    let target = SSHD.shared
    let known = SSHD.shared.knownHostsFile(target.knownHostsLine(0))
    var o = target.options(knownHosts: known, policy: .acceptNew)
    o.proxyJump = Self.spec(bastion)
    let s = try SSHSession.connect(o)
    s.close()
    #expect(s.warnings.count == 1, "\(s.warnings)")
    #expect(s.warnings.first?.hasPrefix("jump host \(bastion.address): permanently added \(bastion.knownHostsName)") == true, "\(s.warnings)")
    #expect(try String(contentsOfFile: known, encoding: .utf8).contains(bastion.knownHostsName))
  }

  @Test func aTargetTheBastionCannotReachIsUnreachable() throws {
    let bastion = try SSHD()
    defer { bastion.stop() }
    var o = SSHD.shared.options(knownHosts: Self.knownHosts([bastion]))
    o.host = "127.0.6.250"
    o.port = 1
    o.proxyJump = Self.spec(bastion)
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(o) }
    #expect(error.kind == .unreachable, "\(error)")
    #expect(error.isConnectionFailure)
    #expect(error.message.contains("could not connect to 127.0.6.250 port 1"), "\(error.message)")
  }

  @Test func proxyCommandIdiomIsAJumpAndAnyOtherIsRefused() throws {
    let bastion = try SSHD()
    defer { bastion.stop() }
    let target = SSHD.shared
    var o = target.options(knownHosts: Self.knownHosts([bastion, target]))
    o.proxyCommand = "ssh -W %h:%p -q -p 2222 \(TestWorld.user)@\(bastion.address)"
    let s = try SSHSession.connect(o)
    #expect(try s.exec(RemoteCommand("true")).succeeded)
    #expect(s.jumpHost == Self.spec(bastion))
    s.close()
    o.proxyCommand = "nc -X connect -x proxy:3128 %h %p"
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(o) }
    #expect(error.kind == .invalidArgument)
    #expect(error.message.contains("ProxyCommand 'nc -X connect -x proxy:3128 %h %p' for \(o.displayName) is not supported"), "\(error.message)")
  }

  @Test func bastionIdentitiesComeFromItsConfigElseTheTarget() throws {
    let bastion = try SSHD()
    defer { bastion.stop() }
    let target = SSHD.shared
    let dir = TestWorld.shared.localDir("jumpcfg")
    // The config names the bastion by an alias with its own key (ecdsa) and user.
    try """
      Host jumpbox
        HostName \(bastion.address)
        Port 2222
        User \(TestWorld.user)
        IdentityFile \(TestWorld.shared.key("id_ecdsa"))
      """.write(toFile: dir + "/config", atomically: true, encoding: .utf8)
    var o = target.options(knownHosts: Self.knownHosts([bastion, target]))
    o.sshConfigFile = dir + "/config"
    o.proxyJump = "jumpbox"
    let s = try SSHSession.connect(o)
    #expect(try s.exec(RemoteCommand("true")).succeeded)
    s.close()
    #expect(bastion.log.contains("Accepted publickey for \(TestWorld.user)") && bastion.log.contains("ECDSA"), "\(bastion.log)")
  }
}
