import CLibSSH2
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Carries TCP connections through one jump host's SSH session: each is a `direct-tcpip`
/// channel (`libssh2_channel_direct_tcpip_ex`) whose bytes a dedicated thread moves to and from
/// one end of a socketpair; the other end is the socket a target's `Session` runs on.
///
/// libssh2 allows one thread per session at a time, and in non-blocking mode a call that
/// returned `EAGAIN` with a packet half sent must be repeated before any other call can send;
/// so every call on the bastion's session is made here, by one thread, which retries such a
/// call first. The target sessions run on their own threads, over their socketpairs, without
/// touching the bastion's session.
final class TunnelPump: Sendable {
  /// The jump host's name, for messages.
  let label: String
  private let inbox = Mutex(Inbox())
  /// Everything the pump thread owns: the session, the channels, the buffers.
  private let engine: Mutex<PumpEngine>
  private let wake: (read: Int32, write: Int32)
  private let stopped = DispatchSemaphore(value: 0)

  private struct Inbox {
    var requests: [TunnelRequest] = []
    var stop = false
    /// Set when the session died: every later request fails with it.
    var broken: SSHError?
  }

  /// Takes the authenticated session over and starts the thread.
  init(session: sending Session) throws(SSHError) {
    label = session.label
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else {
      throw SSHError(.internalError, host: session.label, "pipe: \(String(cString: strerror(errno)))")
    }
    for fd in fds {
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    wake = (fds[0], fds[1])
    engine = Mutex(PumpEngine(session: session))
    let thread = Thread { [self] in
      engine.withLock { $0.run(self) }
      stopped.signal()
    }
    thread.name = "dasprov-jump-\(label)"
    thread.stackSize = SSHPool.stackSize
    thread.start()
  }

  deinit {
    sysClose(wake.read)
    sysClose(wake.write)
  }

  /// Asks the jump host to connect to `host`:`port` and returns this side's socket for it, or
  /// throws once `deadline` passes or the jump host refuses.
  func open(host: String, port: Int, deadline: Deadline) throws(SSHError) -> Int32 {
    let request = TunnelRequest(host: host, port: port)
    let refused: SSHError? = inbox.withLock { inbox in
      if let broken = inbox.broken { return broken }
      if inbox.stop { return SSHError(.disconnected, host: label, "the connection to the jump host is closed") }
      inbox.requests.append(request)
      return nil
    }
    if let refused { throw refused }
    poke()
    let wait = DispatchTime.now() + .milliseconds(Int(max(1, deadline.remainingMillis)))
    if request.done.wait(timeout: wait) == .timedOut {
      // The pump closes the channel if it opens after all.
      if let late = request.abandon() { sysClose(late) }
      throw SSHError(.connectTimeout, host: label, "the jump host did not open a connection to \(host) port \(port) in time")
    }
    return try request.outcome().get()
  }

  /// Ends every tunnel, disconnects from the jump host and waits (at most 3 s) for the thread.
  /// Returns false when it had been stopped before.
  @discardableResult
  func stop() -> Bool {
    let first = inbox.withLock { inbox in
      defer { inbox.stop = true }
      return !inbox.stop
    }
    guard first else { return false }
    poke()
    _ = stopped.wait(timeout: .now() + .seconds(3))
    return true
  }

  /// Wakes the thread from `poll`.
  func poke() {
    var byte: UInt8 = 1
    _ = write(wake.write, &byte, 1)
  }

  var wakeDescriptor: Int32 { wake.read }

  /// New requests and whether to stop; called by the thread once per round.
  func collect() -> (requests: [TunnelRequest], stop: Bool) {
    var drain = [UInt8](repeating: 0, count: 64)
    while read(wake.read, &drain, drain.count) > 0 {}
    return inbox.withLock { inbox in
      defer { inbox.requests = [] }
      return (inbox.requests, inbox.stop)
    }
  }

  /// Marks the session dead; requests from now on fail with `error`.
  func fail(_ error: SSHError) -> [TunnelRequest] {
    inbox.withLock { inbox in
      if inbox.broken == nil { inbox.broken = error }
      defer { inbox.requests = [] }
      return inbox.requests
    }
  }
}

/// A libssh2 call that returned `EAGAIN` with a packet half sent: it has to be repeated before
/// anything else can send.
private enum Pending: Equatable {
  case open
  case write(ObjectIdentifier)
  case eof(ObjectIdentifier)
  case read(ObjectIdentifier)
  case close(ObjectIdentifier)
}

/// The pump thread's state. Only that thread touches it (under `TunnelPump.engine`).
private final class PumpEngine {
  let session: Session
  var tunnels: [Tunnel] = []
  var queue: [TunnelRequest] = []
  /// The request whose channel is being opened; libssh2 opens one channel at a time.
  var opening: TunnelRequest?
  var pending: Pending?
  /// Since when no tunnel is open: silence from the jump host only counts while one is.
  var idleSince = Deadline.now()

  init(session: Session) { self.session = session }

  func run(_ pump: TunnelPump) {
    while true {
      let (requests, stop) = pump.collect()
      queue += requests
      if stop { break }
      do throws(SSHError) {
        if try !round() {
          try checkAlive()
          keepalive()
          try waitForWork(pump)
        }
      } catch {
        var e = error
        e.host = session.label
        for request in pump.fail(e) + queue + (opening.map { [$0] } ?? []) { _ = request.deliver(.failure(e)) }
        queue = []
        opening = nil
        tunnels = []  // their sockets close: the target sessions see the connection end
        break
      }
    }
    for request in pump.fail(SSHError(.disconnected, host: session.label, "the connection to the jump host is closed")) + queue {
      _ = request.deliver(.failure(SSHError(.disconnected, host: session.label, "the connection to the jump host is closed")))
    }
    queue = []
    tunnels = []
    session.close()
  }

  /// One pass over everything that may move; true when something did.
  func round() throws(SSHError) -> Bool {
    if let p = pending {
      // Only the call that left a packet half sent may go on; everything else waits for it.
      pending = nil
      let moved = try perform(p)
      if pending != nil { return moved }
    }
    var progress = false
    if opening == nil, !queue.isEmpty { opening = queue.removeFirst() }
    if opening != nil { progress = try perform(.open) || progress }
    for tunnel in tunnels where pending == nil {
      progress = try pump(tunnel) || progress
    }
    tunnels.removeAll { $0.finished }
    if tunnels.isEmpty && opening == nil { idleSince = Deadline.now() }
    return progress
  }

  /// `libssh2_keepalive_send` (it sends only when the interval has passed), and only when
  /// nothing else is being sent: it cannot be repeated like other calls, so it must not be
  /// the one that leaves a packet half sent.
  func keepalive() {
    guard pending == nil, tunnels.allSatisfy({ $0.upStart == $0.upEnd }) else { return }
    var next: Int32 = 0
    _ = libssh2_keepalive_send(session.handle, &next)
  }

  /// Moves what it can for one tunnel.
  func pump(_ t: Tunnel) throws(SSHError) -> Bool {
    var progress = false
    let id = ObjectIdentifier(t)
    if t.closing { return try perform(.close(id)) }
    // The target's bytes, from the socketpair…
    if !t.localEOF && t.upStart == t.upEnd {
      let n = recv(t.fd, t.up.baseAddress, Tunnel.capacity, Int32(MSG_DONTWAIT))
      if n > 0 {
        (t.upStart, t.upEnd) = (0, n)
        progress = true
      } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        t.localEOF = true
        progress = true
      }
    }
    // …into the channel.
    if t.upStart < t.upEnd {
      progress = try perform(.write(id)) || progress
      if pending != nil { return progress }
    }
    if t.localEOF && t.upStart == t.upEnd && !t.eofSent {
      progress = try perform(.eof(id)) || progress
      if pending != nil { return progress }
    }
    // The far side's bytes, from the channel…
    if !t.remoteEOF && !t.localEOF && t.downStart == t.downEnd {
      progress = try perform(.read(id)) || progress
      if pending != nil { return progress }
    }
    // …into the socketpair.
    if t.downStart < t.downEnd && !t.localEOF {
      let n = send(t.fd, t.down.baseAddress! + t.downStart, t.downEnd - t.downStart, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
      if n > 0 {
        t.downStart += n
        progress = true
      } else if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
        t.localEOF = true
        progress = true
      }
    }
    if t.remoteEOF && t.downStart == t.downEnd && !t.shutDown {
      _ = shutdown(t.fd, Int32(SHUT_WR))
      t.shutDown = true
      progress = true
    }
    // Done when the target closed its side: what else the far side sends has no reader.
    if t.localEOF && t.eofSent {
      t.closing = true
      progress = try perform(.close(id)) || true
    }
    return progress
  }

  /// Makes one libssh2 call; true when it got somewhere. Records it as pending when it
  /// returned `EAGAIN` with a packet half sent; throws when the session itself failed.
  func perform(_ op: Pending) throws(SSHError) -> Bool {
    switch op {
    case .open:
      guard let request = opening else { return false }
      let channel = libssh2_channel_direct_tcpip_ex(session.handle, request.host, Int32(request.port), "127.0.0.1", 22)
      if let channel {
        opening = nil
        session.context.countChannel()
        attach(channel, for: request)
        return true
      }
      let rc = libssh2_session_last_errno(session.handle)
      if rc == LIBSSH2_ERROR_EAGAIN {
        notePending(.open)
        return false
      }
      opening = nil
      let e = session.error(rc, "the jump host \(session.label) could not connect to \(request.host) port \(request.port)")
      try failIfSessionLevel(e)
      var failure = e
      failure.kind = .unreachable
      _ = request.deliver(.failure(failure))
      return true
    case .write(let id):
      guard let t = tunnel(id), let channel = t.channel else { return false }
      let n = libssh2_channel_write_ex(
        channel, 0, (t.up.baseAddress! + t.upStart).assumingMemoryBound(to: CChar.self), t.upEnd - t.upStart)
      if n > 0 {
        t.upStart += n
        return true
      }
      if n == Int(LIBSSH2_ERROR_EAGAIN) {
        notePending(op)
        return false
      }
      try channelFailed(t, Int32(n), "writing to the tunnel failed")
      return true
    case .eof(let id):
      guard let t = tunnel(id), let channel = t.channel else { return false }
      let rc = libssh2_channel_send_eof(channel)
      if rc == LIBSSH2_ERROR_EAGAIN {
        notePending(op)
        return false
      }
      t.eofSent = true
      if rc < 0 { try channelFailed(t, rc, "ending the tunnel failed") }
      return true
    case .read(let id):
      guard let t = tunnel(id), let channel = t.channel else { return false }
      let n = libssh2_channel_read_ex(channel, 0, t.down.baseAddress!.assumingMemoryBound(to: CChar.self), Tunnel.capacity)
      if n > 0 {
        (t.downStart, t.downEnd) = (0, n)
        return true
      }
      if n == 0 {
        guard libssh2_channel_eof(channel) != 0 else { return false }
        t.remoteEOF = true
        return true
      }
      if n == Int(LIBSSH2_ERROR_EAGAIN) {
        notePending(op)
        return false
      }
      try channelFailed(t, Int32(n), "reading from the tunnel failed")
      return true
    case .close(let id):
      guard let t = tunnel(id), let channel = t.channel else { return false }
      let rc = libssh2_channel_free(channel)
      if rc == LIBSSH2_ERROR_EAGAIN {
        notePending(op)
        return false
      }
      t.channel = nil
      return true
    }
  }

  /// A new channel: a socketpair, one end for the pump, the other for the caller.
  func attach(_ channel: OpaquePointer, for request: TunnelRequest) {
    var fds: [Int32] = [-1, -1]
    #if canImport(Glibc)
      let type = Int32(SOCK_STREAM.rawValue)
    #else
      let type = SOCK_STREAM
    #endif
    guard socketpair(AF_UNIX, type, 0, &fds) == 0 else {
      let why = String(cString: strerror(errno))
      let t = Tunnel(channel: channel, fd: -1, label: session.label)
      (t.localEOF, t.eofSent, t.closing) = (true, true, true)
      tunnels.append(t)
      _ = request.deliver(.failure(SSHError(.internalError, host: session.label, "socketpair: \(why)")))
      return
    }
    for fd in fds {
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    let t = Tunnel(channel: channel, fd: fds[0], label: session.label)
    tunnels.append(t)
    if !request.deliver(.success(fds[1])) {
      sysClose(fds[1])
      t.localEOF = true
    }
  }

  func tunnel(_ id: ObjectIdentifier) -> Tunnel? { tunnels.first { ObjectIdentifier($0) == id } }

  /// After `EAGAIN`: when libssh2 waits to send, this exact call has to come first next time.
  func notePending(_ op: Pending) {
    if libssh2_session_block_directions(session.handle) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { pending = op }
  }

  /// A channel call failed: the whole session when libssh2 says the connection is gone, else
  /// just this tunnel (its target sees its connection end).
  func channelFailed(_ t: Tunnel, _ rc: Int32, _ what: String) throws(SSHError) {
    try failIfSessionLevel(session.error(rc, what))
    (t.localEOF, t.eofSent, t.remoteEOF) = (true, true, true)
    t.upStart = t.upEnd
    t.downStart = t.downEnd
    t.closing = true
  }

  func failIfSessionLevel(_ e: SSHError) throws(SSHError) {
    switch e.kind {
    case .disconnected, .protocolError, .handshakeFailed, .timeout: throw e
    default: break
    }
  }

  /// Three keepalive intervals without a byte from the jump host, while tunnels are open,
  /// mean it is gone.
  func checkAlive() throws(SSHError) {
    let interval = session.keepaliveInterval
    guard interval > 0, !tunnels.isEmpty else { return }
    let limit = UInt64(interval) * 3 * 1_000_000_000 + 2_000_000_000
    if Deadline.now() > max(session.context.lastReceiveNanos, idleSince) + limit {
      throw SSHError(.disconnected, host: session.label, "the jump host stopped answering (no reply to keepalives for \(interval * 3) s)")
    }
  }

  /// Sleeps in `poll` until the jump host, a target socket or a new request has something.
  /// The jump host's socket is watched only while some call would read it (else data nobody
  /// reads would wake the thread at once, again and again); a hang-up on it ends the session.
  func waitForWork(_ pump: TunnelPump) throws(SSHError) {
    var fds = [pollfd(fd: pump.wakeDescriptor, events: Int16(POLLIN), revents: 0)]
    var sessionEvents: Int16 = 0
    let reading = tunnels.contains { !$0.closing && !$0.localEOF && !$0.remoteEOF && $0.downStart == $0.downEnd }
    let writing = tunnels.contains { $0.upStart < $0.upEnd }
    if reading || writing || opening != nil || pending != nil { sessionEvents |= Int16(POLLIN) }
    if libssh2_session_block_directions(session.handle) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
      sessionEvents |= Int16(POLLOUT)
    }
    fds.append(pollfd(fd: session.socket, events: sessionEvents, revents: 0))
    if pending == nil {
      for t in tunnels where !t.closing {
        var events: Int16 = 0
        if !t.localEOF && t.upStart == t.upEnd { events |= Int16(POLLIN) }
        if t.downStart < t.downEnd { events |= Int16(POLLOUT) }
        if events != 0 { fds.append(pollfd(fd: t.fd, events: events, revents: 0)) }
      }
    }
    // Wake at least every second for keepalives and the liveness check.
    _ = poll(&fds, nfds_t(fds.count), 1000)
    if fds[1].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 && fds[1].revents & Int16(POLLIN) == 0 {
      throw SSHError(.disconnected, host: session.label, "the jump host closed the connection")
    }
  }
}
