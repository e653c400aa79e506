import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

#if canImport(Glibc)
  import Glibc
#endif

extension SSHSession {
  static func connect(_ options: SSHOptions, keepalive: Int) throws -> SSHSession {
    var o = options
    o.keepaliveInterval = keepalive
    return try connect(o)
  }
}

/// Keepalives, dead-peer detection, and IPv6.
@Suite struct ConnectionTests {
  /// What the keepalive test saw, gathered on a thread of its own and checked on the test's task
  /// (swift-testing attributes expectations only there).
  struct KeepaliveObservation: Sendable {
    var healthy: (sent: Int, received: Int, ok: Bool)
    var control: (sent: Int, received: Int, ok: Bool)
    var frozenOutcome: String
    var elapsed: Double
  }

  @Test func keepalivesFlowDuringLongWaitsAndASilentServerIsDetected() async throws {
    let seen = try await onThread { () -> KeepaliveObservation in
      let sshd = try SSHD()
      defer { sshd.stop() }
      var options = sshd.options()
      options.keepaliveInterval = 1  // libssh2's minimum is 2 s
      let session = try SSHSession.connect(options)
      defer { session.close() }
      // A healthy 5 s wait: keepalives go out and are answered, the command finishes. A session
      // without keepalives runs the same wait alongside, for comparison.
      let control = try SSHSession.connect(sshd.options(), keepalive: 0)
      defer { control.close() }
      let traffic = SSHPool.run([session, control], forks: 2) { s -> (sent: Int, received: Int, ok: Bool) in
        let before = s.stats
        let ok = (try? s.exec(RemoteCommand("sleep", "5")).succeeded) ?? false
        return (s.stats.bytesSent - before.bytesSent, s.stats.bytesReceived - before.bytesReceived, ok)
      }
      // Freeze the server side of the connection: no more replies; the wait must end with
      // `.disconnected` after about three intervals, not hang until the command's end.
      let start = Date()
      let outcome = SSHPool.run([0, 1], forks: 2) { role -> String in
        if role == 1 {
          usleep(500_000)
          sshd.kill(signal: SIGSTOP, includeListener: false)
          return ""
        }
        do {
          _ = try session.exec(RemoteCommand("sleep", "60"))
          return "finished"
        } catch let e as SSHError {
          return e.kind == .disconnected ? "disconnected: \(e.message)" : "\(e)"
        } catch { return "\(error)" }
      }
      // No SIGCONT: the frozen session would go on to start `sleep 60`; `stop` kills it frozen.
      return KeepaliveObservation(
        healthy: traffic[0], control: traffic[1], frozenOutcome: outcome[0], elapsed: Date().timeIntervalSince(start))
    }
    #expect(seen.healthy.ok && seen.control.ok)
    #expect(seen.healthy.sent > seen.control.sent + 50, "no keepalives were sent: \(seen)")
    #expect(seen.healthy.received > seen.control.received + 50, "no keepalive replies: \(seen)")
    #expect(seen.frozenOutcome.hasPrefix("disconnected: the server stopped answering"), "\(seen.frozenOutcome)")
    #expect(seen.elapsed > 5 && seen.elapsed < 15, "took \(seen.elapsed) s")
  }

  @Test func ipv6() throws {
    let port = 20000 + Int(getpid()) % 20000
    let sshd = try SSHD(extraConfig: "ListenAddress [::1]:\(port)")
    defer { sshd.stop() }
    for _ in 0..<100 where !sshd.log.contains("Server listening on ::1 port \(port)") { usleep(20_000) }
    try #require(sshd.log.contains("Server listening on ::1 port \(port)"), "::1 not available: \(sshd.log)")
    var options = sshd.options(knownHosts: sshd.knownHostsFile(""), policy: .acceptNew)
    options.host = "::1"
    options.port = port
    let s = try SSHSession.connect(options)
    defer { s.close() }
    #expect(s.warnings.first?.contains("[::1]:\(port)") == true)
    #expect(try s.exec(RemoteCommand("sh", "-c", "echo $SSH_CONNECTION")).stdoutText.hasPrefix("::1 "))
  }
}
