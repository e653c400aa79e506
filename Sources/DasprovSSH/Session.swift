import CLibSSH2
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// State the C callbacks reach through libssh2's `abstract` pointer: byte counters, the time
/// of the last byte received (for dead-connection detection), and the password that the
/// keyboard-interactive callback answers with.
final class SessionContext: Sendable {
  private struct Counters {
    var stats = TransportStats()
    var lastReceive = Deadline.now()
  }

  private let counters = Mutex(Counters())
  private let password = Mutex<String?>(nil)
  /// Whether the socket is TCP, so the receive callback re-arms `TCP_QUICKACK` (a tunnelled
  /// session's socket is one end of a socketpair).
  let isTCP: Bool

  init(isTCP: Bool) { self.isTCP = isTCP }

  func sent(_ n: Int) { counters.withLock { $0.stats.bytesSent += n } }

  func received(_ n: Int) {
    let now = Deadline.now()
    counters.withLock {
      $0.stats.bytesReceived += n
      $0.lastReceive = now
    }
  }

  func countRoundTrip(_ n: Int = 1) { counters.withLock { $0.stats.roundTrips += n } }
  func countChannel() { counters.withLock { $0.stats.channelsOpened += 1 } }
  func channelReceived(_ n: Int) { counters.withLock { $0.stats.channelBytesReceived += n } }
  var stats: TransportStats { counters.withLock { $0.stats } }
  var lastReceiveNanos: UInt64 { counters.withLock { $0.lastReceive } }

  /// Only set while keyboard-interactive authentication runs, on the session's thread.
  var interactivePassword: String? {
    get { password.withLock { $0 } }
    set { password.withLock { $0 = newValue } }
  }
}

/// The send callback: `send(2)` with `MSG_NOSIGNAL` (a dead peer must not raise SIGPIPE in the
/// controller), counting bytes. Errors are returned as `-errno`, as libssh2's own callback does.
private let sendCallback:
  @convention(c) (Int32, UnsafeRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?)
    -> Int = { fd, buffer, length, flags, abstract in
      #if canImport(Glibc)
        let n = send(fd, buffer, length, flags | Int32(MSG_NOSIGNAL))
      #else
        let n = send(fd, buffer, length, flags)
      #endif
      if n < 0 { return -Int(errno == EWOULDBLOCK ? EAGAIN : errno) }
      if let raw = abstract?.pointee { Unmanaged<SessionContext>.fromOpaque(raw).takeUnretainedValue().sent(n) }
      return n
    }

/// The receive callback: `recv(2)`, counting bytes, noting when the server last spoke, and
/// re-arming `TCP_QUICKACK`.
private let recvCallback:
  @convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?)
    -> Int = { fd, buffer, length, flags, abstract in
      let n = recv(fd, buffer, length, flags)
      if n < 0 { return -Int(errno == EWOULDBLOCK ? EAGAIN : errno) }
      guard let raw = abstract?.pointee else { return n }
      let context = Unmanaged<SessionContext>.fromOpaque(raw).takeUnretainedValue()
      #if os(Linux)
        // Acknowledge at once. sshd does not set TCP_NODELAY on non-interactive sessions, so
        // its small replies wait for our ACK, which Linux delays by up to 40 ms; measured here,
        // `exec true` went from ≈ 45 ms to ≈ 5 ms. The flag does not stick, hence every recv.
        if context.isTCP {
          var one: Int32 = 1
          _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size))
        }
      #endif
      if n > 0 { context.received(n) }
      return n
    }

/// Direct bindings to `libssh2_session_*`: the owner of one `LIBSSH2_SESSION` and its socket.
///
/// The session runs in non-blocking mode. Every call goes through `retry`, which turns
/// `LIBSSH2_ERROR_EAGAIN` into a `poll` on the socket in the directions libssh2 asks for, sends
/// keepalives while it waits, and enforces deadlines; so one thread drives one host and never
/// blocks longer than it means to. Not thread-safe: `SSHSession` serialises access.
final class Session {
  let handle: OpaquePointer
  let socket: Int32
  let context: SessionContext
  /// The host name for messages.
  let label: String
  /// Seconds between keepalives; 0 disables them.
  private(set) var keepaliveInterval = 0
  /// When the current operation started; with `keepaliveInterval`, bounds how long the server
  /// may stay silent before the connection counts as dead.
  var operationStart: UInt64 = Deadline.now()
  private var closed = false

  /// Takes ownership of `socket`, closing it even when this initialiser throws. `isTCP` is false
  /// for a tunnelled session, whose socket is one end of a socketpair.
  init(socket: Int32, label: String, isTCP: Bool = true) throws(SSHError) {
    self.socket = socket
    self.label = label
    self.context = SessionContext(isTCP: isTCP)
    do throws(SSHError) {
      try LibSSH2Runtime.acquire()
    } catch {
      sysClose(socket)
      throw error
    }
    // The context outlives the handle: it is a stored property, released after `deinit` frees
    // the handle.
    let abstract = Unmanaged.passUnretained(context).toOpaque()
    guard let handle = libssh2_session_init_ex(nil, nil, nil, abstract) else {
      sysClose(socket)
      LibSSH2Runtime.release()
      throw SSHError(.internalError, host: label, "libssh2_session_init_ex failed")
    }
    self.handle = handle
    _ = libssh2_session_callback_set(handle, LIBSSH2_CALLBACK_SEND, unsafeBitCast(sendCallback, to: UnsafeMutableRawPointer.self))
    _ = libssh2_session_callback_set(handle, LIBSSH2_CALLBACK_RECV, unsafeBitCast(recvCallback, to: UnsafeMutableRawPointer.self))
    libssh2_session_set_blocking(handle, 0)
  }

  deinit { close() }

  /// Sends SSH_MSG_DISCONNECT (bounded to 2 s: the peer may be gone), frees the handle, closes
  /// the socket. The corresponding C functions are `libssh2_session_disconnect_ex` and
  /// `libssh2_session_free`.
  func close(reason: String = "dasprov done") {
    guard !closed else { return }
    closed = true
    // Blocking mode with a timeout: a non-blocking free could return EAGAIN and leak the handle.
    libssh2_session_set_blocking(handle, 1)
    libssh2_session_set_timeout(handle, 2000)
    _ = libssh2_session_disconnect_ex(handle, SSH_DISCONNECT_BY_APPLICATION, reason, "")
    _ = libssh2_session_free(handle)
    sysClose(socket)
    LibSSH2Runtime.release()
  }

  /// `libssh2_keepalive_config` with want_reply, so replies show the server is alive.
  func configureKeepalive(seconds: Int) {
    keepaliveInterval = seconds
    if seconds > 0 { libssh2_keepalive_config(handle, 1, UInt32(max(2, seconds))) }
  }

  /// libssh2's own code and text for the last failure (`libssh2_session_last_error`).
  func lastError() -> (code: Int32, message: String) {
    var msg: UnsafeMutablePointer<CChar>?
    var len: Int32 = 0
    let code = libssh2_session_last_error(handle, &msg, &len, 0)
    guard let msg, len > 0 else { return (code, "") }
    let text = msg.withMemoryRebound(to: UInt8.self, capacity: Int(len)) {
      String(decoding: UnsafeBufferPointer(start: $0, count: Int(len)), as: UTF8.self)
    }
    return (code, text)
  }

  /// A typed error for a failed libssh2 call, with libssh2's message.
  func error(_ rc: Int32, _ what: String, kind: SSHError.Kind? = nil) -> SSHError {
    let last = lastError()
    let code = rc < 0 ? rc : last.code
    return SSHError(
      kind ?? LibSSH2Code.kind(code), host: label, what, libssh2Code: code, libssh2Message: last.message)
  }

  /// Calls `body` until it stops returning `LIBSSH2_ERROR_EAGAIN`, waiting on the socket between
  /// tries. Returns the final code (≥ 0 success, < 0 a real error for the caller to map).
  func retry(_ deadline: Deadline?, _ body: () -> Int32) throws(SSHError) -> Int32 {
    while true {
      let rc = body()
      if rc != LIBSSH2_ERROR_EAGAIN { return rc }
      try wait(deadline)
    }
  }

  /// `retry` for `ssize_t`-returning calls.
  func retryCount(_ deadline: Deadline?, _ body: () -> Int) throws(SSHError) -> Int {
    while true {
      let rc = body()
      if rc != Int(LIBSSH2_ERROR_EAGAIN) { return rc }
      try wait(deadline)
    }
  }

  /// `retry` for calls that return a handle, or NULL with `EAGAIN` as the last error.
  func retryHandle(_ deadline: Deadline?, _ body: () -> OpaquePointer?) throws(SSHError) -> OpaquePointer? {
    while true {
      if let h = body() { return h }
      if libssh2_session_last_errno(handle) != LIBSSH2_ERROR_EAGAIN { return nil }
      try wait(deadline)
    }
  }

  /// Waits until the socket is ready in the direction libssh2 is blocked on
  /// (`libssh2_session_block_directions`), the deadline passes (`SSHError.timeout`), or the
  /// next keepalive is due. Throws `.disconnected` after three keepalive intervals of silence.
  func wait(_ deadline: Deadline?) throws(SSHError) {
    var timeout: Int32 = 1000
    if let deadline {
      if deadline.hasPassed { throw SSHError(.timeout, host: label, "timed out") }
      timeout = min(timeout, deadline.remainingMillis)
    }
    if keepaliveInterval > 0 {
      var next: Int32 = 0
      _ = libssh2_keepalive_send(handle, &next)
      timeout = min(timeout, max(1, next) * 1000)
      let silentSince = max(context.lastReceiveNanos, operationStart)
      let limit = UInt64(keepaliveInterval) * 3 * 1_000_000_000 + 2_000_000_000
      if Deadline.now() > silentSince + limit {
        throw SSHError(
          .disconnected, host: label,
          "the server stopped answering (no reply to keepalives for \(keepaliveInterval * 3) s)")
      }
    }
    let directions = libssh2_session_block_directions(handle)
    var events: Int16 = 0
    if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
    if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
    if events == 0 { events = Int16(POLLIN) }
    var pfd = pollfd(fd: socket, events: events, revents: 0)
    _ = poll(&pfd, 1, timeout)
  }
}
