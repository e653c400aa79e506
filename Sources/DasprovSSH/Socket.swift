import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A monotonic point in time, for deadlines that wall-clock changes cannot move.
struct Deadline: Sendable {
  let nanos: UInt64

  static func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }

  init(after duration: Duration) {
    let (s, atto) = duration.components
    let ns = max(0, s) * 1_000_000_000 + atto / 1_000_000_000
    nanos = Deadline.now() &+ UInt64(ns)
  }

  /// Milliseconds left, at least 0, for `poll`.
  var remainingMillis: Int32 {
    let now = Deadline.now()
    guard nanos > now else { return 0 }
    return Int32(clamping: (nanos - now + 999_999) / 1_000_000)
  }

  var hasPassed: Bool { Deadline.now() >= nanos }
}

/// TCP connection set-up: every address `getaddrinfo` returns (IPv4 and IPv6), non-blocking
/// connect bounded by a deadline, then `TCP_NODELAY`.
///
/// libssh2 never sets `TCP_NODELAY`; without it the handshake's small packets wait on Nagle and
/// delayed ACKs (≈ 0.15 s → 0.07 s per host on loopback, peers-and-user-asks.md §9).
enum TCPSocket {
  /// A connected socket descriptor. The caller owns it and must `close` it.
  static func connect(host: String, port: Int, deadline: Deadline, label: String) throws(SSHError) -> Int32 {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    #if canImport(Glibc)
      hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    #else
      hints.ai_socktype = SOCK_STREAM
    #endif
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV
    var list: UnsafeMutablePointer<addrinfo>?
    let gai = getaddrinfo(host, String(port), &hints, &list)
    if gai != 0 {
      let why = String(cString: gai_strerror(gai))
      throw SSHError(.dnsFailure, host: label, "cannot resolve \(host): \(why)")
    }
    defer { freeaddrinfo(list) }

    var failures: [(kind: SSHError.Kind, text: String)] = []
    var cursor = list
    while let ai = cursor {
      cursor = ai.pointee.ai_next
      let address = numericAddress(ai.pointee)
      let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
      if fd < 0 {
        failures.append((.unreachable, "\(address): socket: \(String(cString: strerror(errno)))"))
        continue
      }
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
      #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
      #endif
      var err: Int32 = 0
      if sysConnect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
        err = errno
        if err == EINPROGRESS || err == EINTR {
          err = waitConnected(fd, deadline: deadline)
        }
      }
      if err == 0 {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
      }
      sysClose(fd)
      let text = err == ETIMEDOUT ? "timed out" : String(cString: strerror(err))
      let kind: SSHError.Kind =
        switch err {
        case ECONNREFUSED: .connectionRefused
        case ETIMEDOUT: .connectTimeout
        default: .unreachable
        }
      failures.append((kind, "\(address) port \(port): \(text)"))
      if deadline.hasPassed { break }
    }
    guard let first = failures.first else {
      throw SSHError(.dnsFailure, host: label, "\(host) has no usable address")
    }
    // One refusal among timeouts still means "reachable but nothing listens" on that address;
    // report the most specific kind: refused, then timeout, then unreachable.
    let kind =
      failures.contains { $0.kind == .connectionRefused } ? SSHError.Kind.connectionRefused
      : failures.contains { $0.kind == .connectTimeout } ? .connectTimeout : first.kind
    let verb = kind == .connectionRefused ? "connection refused" : kind == .connectTimeout ? "connect timed out" : "unreachable"
    throw SSHError(kind, host: label, "\(verb): " + failures.map(\.text).joined(separator: "; "))
  }

  /// 0 once the non-blocking connect finished, else the errno (`ETIMEDOUT` at the deadline).
  private static func waitConnected(_ fd: Int32, deadline: Deadline) -> Int32 {
    while true {
      var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
      let n = poll(&pfd, 1, deadline.remainingMillis)
      if n < 0 {
        if errno == EINTR { continue }
        return errno
      }
      if n == 0 { return ETIMEDOUT }
      var soError: Int32 = 0
      var len = socklen_t(MemoryLayout<Int32>.size)
      if getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len) != 0 { return errno }
      return soError
    }
  }

  private static func numericAddress(_ ai: addrinfo) -> String {
    var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    let rc = getnameinfo(ai.ai_addr, ai.ai_addrlen, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST)
    guard rc == 0 else { return "?" }
    let s = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return ai.ai_family == AF_INET6 ? "[\(s)]" : s
  }
}

// Unqualified `connect`/`close` would resolve to the enclosing static methods.
@inline(__always) func sysConnect(_ fd: Int32, _ addr: UnsafePointer<sockaddr>!, _ len: socklen_t) -> Int32 {
  #if canImport(Glibc)
    Glibc.connect(fd, addr, len)
  #else
    Darwin.connect(fd, addr, len)
  #endif
}

@inline(__always) func sysClose(_ fd: Int32) {
  #if canImport(Glibc)
    _ = Glibc.close(fd)
  #else
    _ = Darwin.close(fd)
  #endif
}
