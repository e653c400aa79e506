import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct CounterTests {
  @Test func roundTripsChannelsAndBytes() throws {
    let s = try SSHSession.connect(SSHD.shared.options())
    defer { s.close() }
    let start = s.stats
    #expect(start.roundTrips == 0 && start.channelsOpened == 0)
    #expect(start.bytesSent > 0 && start.bytesReceived > 0)  // key exchange and authentication
    #expect(start.channelBytesReceived == 0)  // the handshake is not channel data
    _ = try s.runScript("echo facts")
    #expect(s.stats.roundTrips == 1 && s.stats.channelsOpened == 1)
    #expect(s.stats.channelBytesReceived == 6)  // "facts\n"
    _ = try s.exec(RemoteCommand("true"))
    #expect(s.stats.roundTrips == 2 && s.stats.channelsOpened == 2)
    #expect(s.stats.channelBytesReceived == 6)
    // A small upload is one exec: one round trip.
    let dir = TestWorld.shared.remoteDir("count")
    _ = try s.upload(.data(Data("x".utf8)), to: dir + "/f")
    #expect(s.stats.roundTrips == 3 && s.stats.channelsOpened == 3)
    // First SFTP use starts the subsystem (1) then stats (1); the next stat is 1.
    _ = try s.stat(dir + "/f")
    #expect(s.stats.roundTrips == 5 && s.stats.channelsOpened == 4)
    _ = try s.stat(dir + "/f")
    #expect(s.stats.roundTrips == 6 && s.stats.channelsOpened == 4)
    // SFTP upload: open, data, close, and the finishing exec.
    _ = try s.upload(.data(Data("y".utf8)), to: dir + "/f", mode: nil, owner: nil, group: nil, become: nil, method: .sftp)
    #expect(s.stats.roundTrips == 10 && s.stats.channelsOpened == 5)
    #expect(s.stats.bytesSent > start.bytesSent && s.stats.bytesReceived > start.bytesReceived)
  }
}

@Suite struct ConnectErrorTests {
  @Test func refused() throws {
    var options = SSHD.shared.options()
    options.port = 9  // nothing listens on the discard port here
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(options) }
    #expect(error.kind == .connectionRefused)
    #expect(error.isConnectionFailure)
    #expect(error.description.contains("test-\(SSHD.shared.address): connection refused"))
  }

  @Test func dnsFailure() throws {
    var options = SSHD.shared.options()
    options.host = "no-such-host.invalid"
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(options) }
    #expect(error.kind == .dnsFailure)
    #expect(error.message.contains("cannot resolve no-such-host.invalid"))
  }

  @Test func silentServerTimesOutDuringKeyExchange() throws {
    // A listener that never speaks: the kernel accepts the TCP connection, no banner follows.
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var sa = sockaddr_in()
    sa.sin_family = sa_family_t(AF_INET)
    sa.sin_port = 0
    inet_pton(AF_INET, "127.0.6.250", &sa.sin_addr)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &sa) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &len) == 0
      }
    }
    #expect(bound)
    var options = SSHD.shared.options()
    options.host = "127.0.6.250"
    options.port = Int(UInt16(bigEndian: sa.sin_port))
    options.connectTimeout = .milliseconds(700)
    let start = Date()
    let error = try #require(throws: SSHError.self) { try SSHSession.connect(options) }
    #expect(error.kind == .connectTimeout)
    #expect(error.message.contains("during key exchange"))
    #expect(Date().timeIntervalSince(start) < 3)
  }

  @Test func closedSessionSaysSo() throws {
    let s = try SSHSession.connect(SSHD.shared.options())
    s.close()
    let error = try #require(throws: SSHError.self) { try s.exec(RemoteCommand("true")) }
    #expect(error.kind == .disconnected)
  }

  @Test func everyLibssh2CodeHasANameAndAKind() {
    for code in Int32(-49)...0 {
      #expect(!LibSSH2Code.name(code).hasPrefix("libssh2 error"))
      _ = LibSSH2Code.kind(code)
    }
    #expect(LibSSH2Code.kind(-18) == .authenticationFailed(tried: [], offered: []))
    #expect(LibSSH2Code.kind(-43) == .disconnected)
    #expect(LibSSH2Code.kind(-31) == .sftp(status: 0))
  }
}
