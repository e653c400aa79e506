import DasprovCore
import Foundation

/// What the engine needs from a connection to one host. `SSHSession` is the real one; engine and
/// task tests implement it with a fake so they run without libssh2 or sshd.
///
/// Every method blocks the calling thread until the server has answered. Call them from a
/// dedicated thread (`SSHPool.run`), never from Swift's cooperative pool. Calls on one transport
/// are serialised; calls on different transports run in parallel.
public protocol RemoteTransport: AnyObject, Sendable {
  /// The host as the inventory names it.
  var host: String { get }
  /// Runs one command. A non-zero exit status is a result, not an error.
  func exec(
    _ command: RemoteCommand, stdin: ExecInput, timeout: Duration?, become: Bool?, output: ExecOutput
  ) throws(SSHError) -> ExecResult
  /// Runs a POSIX `sh` script (`sh -s`, script on stdin), or — when `stdinAfterScript` is given —
  /// `sh -c SCRIPT` with that input on stdin.
  func runScript(
    _ script: String, stdinAfterScript: ExecInput, timeout: Duration?, become: Bool?, output: ExecOutput
  ) throws(SSHError) -> ExecResult
  /// Writes a file atomically: temp file in the destination directory, fsync, sha256 check,
  /// rename. Keeps the replaced file's mode and owner unless `mode`/`owner`/`group` are given.
  func upload(
    _ source: UploadSource, to remotePath: String, mode: UInt16?, owner: String?, group: String?,
    become: Bool?, method: UploadMethod
  ) throws(SSHError) -> UploadResult
  /// A remote file's contents; at most `maxBytes` (a larger file is an error).
  func download(_ remotePath: String, become: Bool?, maxBytes: Int) throws(SSHError) -> Data
  /// `stat` (following symlinks) or `lstat`; `nil` when nothing is there.
  func stat(_ remotePath: String, followSymlinks: Bool, become: Bool?) throws(SSHError) -> RemoteFileInfo?
  func readlink(_ remotePath: String, become: Bool?) throws(SSHError) -> String
  /// Creates (or, with `replace`, atomically replaces) the symlink `path` → `target`.
  func symlink(target: String, at path: String, replace: Bool, become: Bool?) throws(SSHError)
  /// `mkdir -p`, then `chmod` when `mode` is given.
  func mkdirP(_ remotePath: String, mode: UInt16?, become: Bool?) throws(SSHError)
  /// Counters for this connection so far.
  var stats: TransportStats { get }
  /// Ends the connection. Further calls throw `.disconnected`.
  func close()
}

extension RemoteTransport {
  public func exec(
    _ command: RemoteCommand, stdin: ExecInput = .none, timeout: Duration? = nil, become: Bool? = nil
  ) throws(SSHError) -> ExecResult {
    try exec(command, stdin: stdin, timeout: timeout, become: become, output: .buffer())
  }

  public func runScript(
    _ script: String, stdinAfterScript: ExecInput = .none, timeout: Duration? = nil, become: Bool? = nil
  ) throws(SSHError) -> ExecResult {
    try runScript(script, stdinAfterScript: stdinAfterScript, timeout: timeout, become: become, output: .buffer())
  }

  public func upload(
    _ source: UploadSource, to remotePath: String, mode: UInt16? = nil, owner: String? = nil,
    group: String? = nil, become: Bool? = nil
  ) throws(SSHError) -> UploadResult {
    try upload(source, to: remotePath, mode: mode, owner: owner, group: group, become: become, method: .auto)
  }

  public func download(_ remotePath: String, become: Bool? = nil) throws(SSHError) -> Data {
    try download(remotePath, become: become, maxBytes: 256 << 20)
  }

  public func stat(_ remotePath: String, become: Bool? = nil) throws(SSHError) -> RemoteFileInfo? {
    try stat(remotePath, followSymlinks: true, become: become)
  }

  public func lstat(_ remotePath: String, become: Bool? = nil) throws(SSHError) -> RemoteFileInfo? {
    try stat(remotePath, followSymlinks: false, become: become)
  }

  public func readlink(_ remotePath: String) throws(SSHError) -> String { try readlink(remotePath, become: nil) }

  public func symlink(target: String, at path: String, replace: Bool = true) throws(SSHError) {
    try symlink(target: target, at: path, replace: replace, become: nil)
  }

  public func mkdirP(_ remotePath: String, mode: UInt16? = nil) throws(SSHError) {
    try mkdirP(remotePath, mode: mode, become: nil)
  }
}

/// Where a command's stdin comes from.
public enum ExecInput {
  /// Stdin is closed at once (EOF).
  case none
  case data(Data)
  /// A local file, streamed in chunks.
  case file(String)
  /// Chunks from a closure until it returns `nil`; for sources that are neither memory nor file.
  case stream(() throws(SSHError) -> Data?)
}

/// What to do with a command's output.
public enum ExecOutput {
  /// Keep stdout and stderr in `ExecResult`, at most `limit` bytes each: stdout keeps its first
  /// bytes, stderr its last (the tail is where errors are). `…Truncated` says when that happened.
  case buffer(limit: Int = 16 << 20)
  /// Hand every chunk to `handler` as it arrives, on the calling thread; nothing is buffered
  /// except the last 64 KiB of stderr for error messages.
  case stream((ExecStream, Data) -> Void)
}

public enum ExecStream: Sendable { case stdout, stderr }

/// How a remote command ended.
public struct ExecResult: Sendable, Equatable {
  /// The exit status; -1 when the command was killed by a signal (see `signal`).
  public var status: Int32
  /// The signal name without `SIG` (`"TERM"`, `"KILL"`), when the command died of one.
  public var signal: String?
  public var stdout: Data
  public var stderr: Data
  public var stdoutTruncated = false
  public var stderrTruncated = false

  public init(status: Int32, signal: String? = nil, stdout: Data = Data(), stderr: Data = Data()) {
    self.status = status
    self.signal = signal
    self.stdout = stdout
    self.stderr = stderr
  }

  public var succeeded: Bool { status == 0 && signal == nil }
  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

  /// The last `lines` lines of stderr, for error messages.
  public func stderrTail(lines: Int = 10) -> String {
    let all = stderrText.split(separator: "\n", omittingEmptySubsequences: false)
    let trimmed = all.last == "" ? all.dropLast() : all[...]
    return trimmed.suffix(lines).joined(separator: "\n")
  }

  /// This result, or `SSHError.commandFailed` with the exit status and the tail of stderr.
  public func checked(host: String, command: String) throws(SSHError) -> ExecResult {
    guard !succeeded else { return self }
    let how = signal.map { "was killed by SIG\($0)" } ?? "exited with status \(status)"
    let tail = stderrTail()
    throw SSHError(
      .commandFailed(status: status, signal: signal), host: host,
      "command \(how): \(command)" + (tail.isEmpty ? "" : "\n" + tail))
  }
}

/// What to upload.
public enum UploadSource: Sendable {
  case data(Data)
  /// A local file, streamed with bounded memory. `sha256`, when the caller already knows it
  /// (one pack sent to every host), spares hashing the file again for each upload; otherwise
  /// it is computed while streaming.
  case file(String, sha256: String? = nil)

  var knownSHA256: String? {
    if case .file(_, let sum) = self { return sum?.lowercased() }
    return nil
  }
}

/// How file bytes travel. `.auto` uses one exec channel (one round trip) for small files and
/// under `become`, and SFTP with pipelined writes for large files otherwise.
public enum UploadMethod: String, Sendable, CaseIterable {
  case auto, sftp, exec
}

public struct UploadResult: Sendable, Equatable {
  /// The sha256 the remote side computed and checked against what was sent.
  public var sha256: String
  public var bytes: Int
  /// The method actually used.
  public var method: UploadMethod

  public init(sha256: String, bytes: Int, method: UploadMethod) {
    self.sha256 = sha256
    self.bytes = bytes
    self.method = method
  }
}

/// A remote file's metadata.
public struct RemoteFileInfo: Sendable, Equatable {
  public enum Kind: String, Sendable {
    case regular, directory, symlink, fifo, socket, characterDevice, blockDevice, unknown
  }

  public var kind: Kind
  /// Permission bits including setuid/setgid/sticky (`0o7777` mask).
  public var mode: UInt16
  public var uid: UInt32
  public var gid: UInt32
  public var size: UInt64
  /// Modification time, seconds since the epoch.
  public var mtime: Int64

  public init(kind: Kind, mode: UInt16, uid: UInt32, gid: UInt32, size: UInt64, mtime: Int64) {
    self.kind = kind
    self.mode = mode
    self.uid = uid
    self.gid = gid
    self.size = size
    self.mtime = mtime
  }

  /// From a full `st_mode` (type bits and permission bits).
  init(rawMode: UInt32, uid: UInt32, gid: UInt32, size: UInt64, mtime: Int64) {
    let kind: Kind =
      switch rawMode & 0o170000 {
      case 0o100000: .regular
      case 0o040000: .directory
      case 0o120000: .symlink
      case 0o010000: .fifo
      case 0o140000: .socket
      case 0o020000: .characterDevice
      case 0o060000: .blockDevice
      default: .unknown
      }
    self.init(kind: kind, mode: UInt16(rawMode & 0o7777), uid: uid, gid: gid, size: size, mtime: mtime)
  }
}

/// Counters for one connection, so the engine can assert "≤ 2 round trips per host on a no-op
/// run".
///
/// A round trip is one request dasprov makes that has to wait for the server: one per exec or
/// script (channel open + exec request + output until exit count as one), one per SFTP request
/// (open, close, fsync, stat, lstat, readlink), one per file's data stream (pipelined writes or
/// reads count once), and one for starting the SFTP subsystem. Connection setup (TCP, key
/// exchange, authentication) is not counted: it is the same fixed cost for every run.
public struct TransportStats: Sendable, Equatable {
  public var roundTrips = 0
  public var channelsOpened = 0
  /// Bytes written to and read from the TCP socket, encrypted, including connection setup.
  public var bytesSent = 0
  public var bytesReceived = 0
  /// Payload bytes read from channels (an exec's stdout and stderr, SFTP reads' file data),
  /// decrypted; connection setup and protocol framing are not in it.
  public var channelBytesReceived = 0

  public init() {}
}
