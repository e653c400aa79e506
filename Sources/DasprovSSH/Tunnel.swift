import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// The two ends of a tunnel through a jump host: the caller waiting for its socket, and the
// pump's bookkeeping for one direct-tcpip channel.

/// One caller's wait for a tunnel.
final class TunnelRequest: Sendable {
  let host: String
  let port: Int
  let done = DispatchSemaphore(value: 0)
  private let state = Mutex<(result: Result<Int32, SSHError>?, abandoned: Bool)>((nil, false))

  init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  /// Hands the caller its socket, or returns false when the caller gave up (the pump then
  /// closes the tunnel).
  func deliver(_ result: Result<Int32, SSHError>) -> Bool {
    let taken = state.withLock { state in
      if state.abandoned { return false }
      state.result = result
      return true
    }
    done.signal()
    return taken
  }

  /// The caller gives up; returns a socket that was delivered meanwhile, for the caller to close.
  func abandon() -> Int32? {
    state.withLock { state in
      state.abandoned = true
      if case .success(let fd)? = state.result { return fd }
      return nil
    }
  }

  func outcome() -> Result<Int32, SSHError> {
    state.withLock { $0.result } ?? .failure(SSHError(.internalError, host: "", "no tunnel result"))
  }
}

/// One tunnel: a `direct-tcpip` channel and the pump's end of a socketpair, with a fixed buffer
/// each way (fixed, so a write libssh2 asks to repeat gets the same bytes again).
///
/// It owns the socket and the buffers (freed in `deinit`). The channel is freed by the pump
/// (`libssh2_channel_free`, which may take several rounds in non-blocking mode), or with the
/// session when that fails: never from `deinit`, which may not wait on the network.
final class Tunnel {
  var channel: OpaquePointer?
  /// The pump's end of the socketpair.
  let fd: Int32
  let label: String
  static let capacity = 64 << 10
  /// Socket → channel.
  let up = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
  var upStart = 0, upEnd = 0
  /// Channel → socket.
  let down = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
  var downStart = 0, downEnd = 0
  /// The target side closed its socket.
  var localEOF = false
  var eofSent = false
  /// The far side sent EOF (or the channel failed).
  var remoteEOF = false
  var shutDown = false
  /// Closing the channel (`libssh2_channel_close`, then `_free`), which may take several rounds.
  var closing = false

  init(channel: OpaquePointer, fd: Int32, label: String) {
    self.channel = channel
    self.fd = fd
    self.label = label
  }

  deinit {
    sysClose(fd)
    up.deallocate()
    down.deallocate()
  }

  var finished: Bool { channel == nil }
}
