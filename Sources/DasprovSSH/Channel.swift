import CLibSSH2
import Foundation

/// Feeds a channel's stdin from an `ExecInput` in bounded chunks.
struct InputReader {
  private var source: ExecInput
  private var file: FileHandle?
  /// Set at the end of the input, so later calls return `nil` without touching the source.
  private var finished = false
  static let chunkSize = 1 << 20

  init(_ source: ExecInput) { self.source = source }

  var isEmpty: Bool { if case .none = source { return true } else { return false } }

  /// The next chunk, or `nil` at the end.
  mutating func next() throws(SSHError) -> Data? {
    guard !finished else { return nil }
    switch source {
    case .none: return nil
    case .data(let d):
      finished = true
      return d.isEmpty ? nil : d
    case .file(let path):
      if file == nil {
        guard let h = FileHandle(forReadingAtPath: path) else {
          throw SSHError(.localFile, host: "", "cannot read \(path)")
        }
        file = h
      }
      let chunk: Data
      do {
        chunk = try file!.read(upToCount: Self.chunkSize) ?? Data()
      } catch {
        throw SSHError(.localFile, host: "", "cannot read \(path): \(error.localizedDescription)")
      }
      if chunk.isEmpty {
        try? file?.close()
        finished = true
        return nil
      }
      return chunk
    case .stream(let body):
      while true {
        guard let chunk = try body() else {
          finished = true
          return nil
        }
        if !chunk.isEmpty { return chunk }
      }
    }
  }
}

/// Collects or streams a command's output, never holding more than the configured limit.
struct OutputCollector {
  var mode: ExecOutput
  var stdout = Data()
  var stderr = Data()
  var stdoutTruncated = false
  var stderrTruncated = false
  static let streamedStderrTail = 64 << 10

  init(_ mode: ExecOutput) { self.mode = mode }

  mutating func append(_ stream: ExecStream, _ bytes: UnsafeRawBufferPointer) {
    switch mode {
    case .stream(let handler):
      let data = Data(bytes)
      handler(stream, data)
      if stream == .stderr { appendTail(data, limit: Self.streamedStderrTail) }
    case .buffer(let limit):
      if stream == .stdout {
        let room = max(0, limit - stdout.count)
        if bytes.count > room { stdoutTruncated = true }
        if room > 0 { stdout.append(contentsOf: bytes.prefix(room)) }
      } else {
        appendTail(Data(bytes), limit: limit)
      }
    }
  }

  private var tailLimit = 0

  /// Keeps the last `limit` bytes, trimming only when twice that has piled up, so a long stream
  /// of stderr costs linear time, not a copy of the whole tail per chunk.
  private mutating func appendTail(_ data: Data, limit: Int) {
    tailLimit = limit
    stderr.append(data)
    if stderr.count > 2 * limit { trimTail() }
  }

  private mutating func trimTail() {
    guard stderr.count > tailLimit else { return }
    stderr = Data(stderr.suffix(tailLimit))
    stderrTruncated = true
  }

  /// Call once the command has ended.
  mutating func finish() { trimTail() }
}

/// Direct bindings to `libssh2_channel_*`: the owner of one channel. Holds its `Session`
/// strongly, so the session cannot be freed under it (Shout's use-after-free).
final class Channel {
  let session: Session
  private var handle: OpaquePointer?
  /// 2 MiB receive window (libssh2's default) with 32 KiB packets.
  static let window: UInt32 = 2 << 20
  static let packet: UInt32 = 32768

  /// Opens a "session" channel. The corresponding C function is `libssh2_channel_open_ex`.
  init(session: Session, deadline: Deadline?) throws(SSHError) {
    self.session = session
    let s = session.handle
    handle = try session.retryHandle(deadline) {
      libssh2_channel_open_ex(s, "session", 7, Self.window, Self.packet, nil, 0)
    }
    guard handle != nil else { throw session.error(0, "cannot open a channel", kind: .channelFailure) }
    session.context.countChannel()
  }

  deinit { free() }

  /// Starts `command` with the user's login shell (`exec` request). The corresponding C
  /// function is `libssh2_channel_process_startup`.
  func exec(_ command: String, deadline: Deadline?) throws(SSHError) {
    let h = handle!
    let rc = try session.retry(deadline) {
      libssh2_channel_process_startup(h, "exec", 4, command, UInt32(command.utf8.count))
    }
    guard rc == 0 else { throw session.error(rc, "the server refused to run the command", kind: .channelFailure) }
  }

  /// Starts a subsystem such as `sftp`.
  func subsystem(_ name: String, deadline: Deadline?) throws(SSHError) {
    let h = handle!
    let rc = try session.retry(deadline) {
      libssh2_channel_process_startup(h, "subsystem", 9, name, UInt32(name.utf8.count))
    }
    guard rc == 0 else { throw session.error(rc, "the server refused the \(name) subsystem", kind: .channelFailure) }
  }

  /// Writes stdin and reads stdout/stderr at the same time until the remote side sends EOF, so
  /// neither side can stall the other on a full window. Throws `.timeout` at the deadline.
  func pump(input: inout InputReader, output: inout OutputCollector, deadline: Deadline?) throws(SSHError) {
    let h = handle!
    var pending = Data()
    var pendingOffset = 0
    var inputDone = input.isEmpty
    var eofSent = false
    // Not zero-filled: each exec of each host would otherwise clear (and fault in) the whole
    // buffer; libssh2 writes before we read. 64 KiB holds two of its largest packets.
    var buffer = [UInt8](unsafeUninitializedCapacity: 64 << 10) { _, count in count = 64 << 10 }
    while true {
      var progress = false
      // stdin
      if !inputDone {
        if pendingOffset == pending.count {
          if let next = try input.next() {
            pending = next
            pendingOffset = 0
          } else {
            inputDone = true
          }
        }
        if pendingOffset < pending.count {
          let n = pending.withUnsafeBytes { raw -> Int in
            let rest = UnsafeRawBufferPointer(rebasing: raw[pendingOffset...])
            return libssh2_channel_write_ex(h, 0, rest.baseAddress!.assumingMemoryBound(to: CChar.self), rest.count)
          }
          if n > 0 {
            pendingOffset += n
            progress = true
          } else if n < 0 && n != Int(LIBSSH2_ERROR_EAGAIN) {
            // The command stopped reading (exited or closed stdin): its output and exit status
            // still tell what happened, so keep reading.
            inputDone = true
            eofSent = true
          }
        }
      }
      if inputDone && !eofSent {
        let rc = libssh2_channel_send_eof(h)
        if rc != LIBSSH2_ERROR_EAGAIN { eofSent = true; progress = true }
      }
      // stdout and stderr
      var closedStreams = 0
      for (id, stream) in [(Int32(0), ExecStream.stdout), (SSH_EXTENDED_DATA_STDERR, ExecStream.stderr)] {
        while true {
          let n = buffer.withUnsafeMutableBytes { raw in
            libssh2_channel_read_ex(h, id, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
          }
          if n > 0 {
            session.context.channelReceived(n)
            buffer.withUnsafeBytes { output.append(stream, UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
            progress = true
            continue
          }
          if n == 0 { closedStreams += 1 }
          else if n != Int(LIBSSH2_ERROR_EAGAIN) { throw session.error(Int32(n), "reading command output failed") }
          break
        }
      }
      if libssh2_channel_eof(h) != 0 || closedStreams == 2 { return }
      if !progress {
        if let deadline, deadline.hasPassed { throw SSHError(.timeout, host: session.label, "timed out") }
        try session.wait(deadline)
      }
    }
  }

  /// Closes the channel and returns how the command ended (`libssh2_channel_close`,
  /// `_wait_closed`, `_get_exit_status`, `_get_exit_signal`).
  func finish(deadline: Deadline?) throws(SSHError) -> (status: Int32, signal: String?) {
    let h = handle!
    var rc = try session.retry(deadline) { libssh2_channel_close(h) }
    if rc < 0 && rc != LIBSSH2_ERROR_CHANNEL_CLOSED { throw session.error(rc, "closing the channel failed") }
    rc = try session.retry(deadline) { libssh2_channel_wait_closed(h) }
    if rc < 0 { throw session.error(rc, "the channel did not close") }
    var status = libssh2_channel_get_exit_status(h)
    var name: UnsafeMutablePointer<CChar>?
    var nameLength = 0
    var signal: String?
    _ = libssh2_channel_get_exit_signal(h, &name, &nameLength, nil, nil, nil, nil)
    if let name {
      if nameLength > 0 { signal = String(cString: name) }
      libssh2_free(session.handle, name)
    }
    if signal != nil { status = -1 }
    free()
    return (status, signal)
  }

  /// Asks the server to signal the command (RFC 4254 §6.9; OpenSSH ≥ 7.9 honours it), then
  /// closes the channel; for a command that outlived its timeout. Bounded to 2 s in total.
  func abort(signal: String = "TERM") {
    guard let h = handle else { return }
    let deadline = Deadline(after: .seconds(2))
    _ = try? session.retry(deadline) {
      libssh2_channel_process_startup(h, "signal", 6, signal, UInt32(signal.utf8.count))
    }
    _ = try? session.retry(deadline) { libssh2_channel_close(h) }
    free()
  }

  /// Frees the handle (bounded: a dead peer must not hang us). The corresponding C function is
  /// `libssh2_channel_free`.
  func free() {
    guard let h = handle else { return }
    handle = nil
    let deadline = Deadline(after: .seconds(2))
    _ = try? session.retry(deadline) { libssh2_channel_free(h) }
  }

  var rawHandle: OpaquePointer? { handle }
}
