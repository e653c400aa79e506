import CLibSSH2
import DasprovCore
import Foundation

/// One SSH connection to one host, reused for every command and file operation of a run.
///
/// Connecting does TCP (IPv4/IPv6, `TCP_NODELAY`), key exchange, host key verification and
/// authentication within `SSHOptions.connectTimeout`. Every method blocks its calling thread and
/// holds the session's lock, so libssh2 never sees two threads at once; run hosts in parallel
/// with `SSHPool`, one dedicated thread per host.
public final class SSHSession: RemoteTransport, @unchecked Sendable {
  public let host: String
  /// The address and port actually connected to.
  public let address: String
  public let port: Int
  public let user: String
  /// The server's host key type and fingerprint as OpenSSH shows them: `ED25519`,
  /// `SHA256:<base64 without padding>`.
  public let hostKeyType: String
  public let hostKeyFingerprint: String
  /// How authentication succeeded, e.g. `publickey /root/.ssh/id_ed25519`, `agent`, `password`.
  public let authenticatedWith: String
  /// Things the user should hear about: a key recorded under accept-new, checking turned off.
  public let warnings: [String]
  /// `become` from the options: the default for every call.
  public let become: Bool

  private let lock = NSLock()
  private var session: Session?
  private var sftpHandle: SFTP?
  /// Set when the connection broke; every later call fails fast with it.
  private var broken: SSHError?
  private let context: SessionContext

  private init(session: Session, options: ResolvedSSHOptions, keyType: String, fingerprint: String, auth: String, warnings: [String]) {
    self.session = session
    self.context = session.context
    self.host = options.name
    self.address = options.address
    self.port = options.port
    self.user = options.user
    self.hostKeyType = keyType
    self.hostKeyFingerprint = fingerprint
    self.authenticatedWith = auth
    self.warnings = warnings
    self.become = options.become
  }

  deinit { close() }

  // MARK: Connecting

  /// Connects, verifies the host key under the options' policy, and logs in.
  public static func connect(_ options: SSHOptions) throws -> SSHSession {
    let r = options.resolved()
    // Secrets from the environment are masked like the inventory's are.
    for secret in [r.password, r.passphrase].compactMap({ $0 }) { SecretMasker.shared.add(secret) }
    let deadline = Deadline(after: r.connectTimeout)
    let fd = try TCPSocket.connect(host: r.address, port: r.port, deadline: deadline, label: r.name)
    let s = try Session(socket: fd, label: r.name)
    var phase = "key exchange"
    do {
      var warnings: [String] = []
      var known: KnownHosts?
      do {
        known = try KnownHosts(session: s, path: r.knownHostsFile, for: r.knownHostsName)
      } catch where r.hostKeyPolicy == .off {
        known = nil
      }
      // Prefer the key types already recorded for this host, as OpenSSH does; otherwise the
      // server could pick a type we have no entry for and the key would look unknown.
      let knownTypes = known?.knownTypes(for: r.knownHostsName) ?? []
      var algorithms: [String] = []
      for type in knownTypes + HostKeyType.all where !algorithms.contains(type.algorithms[0]) {
        algorithms += type.algorithms
      }
      _ = libssh2_session_method_pref(s.handle, LIBSSH2_METHOD_HOSTKEY, algorithms.joined(separator: ","))

      let rc = try s.retry(deadline) { libssh2_session_handshake(s.handle, libssh2_socket_t(fd)) }
      guard rc == 0 else {
        throw s.error(rc, "SSH handshake with \(r.address) port \(r.port) failed", kind: .handshakeFailed)
      }

      phase = "host key verification"
      var keyLength = 0
      var rawType: Int32 = 0
      guard let keyPointer = libssh2_session_hostkey(s.handle, &keyLength, &rawType), keyLength > 0 else {
        throw s.error(0, "the server sent no host key", kind: .handshakeFailed)
      }
      let blob = [UInt8](UnsafeRawBufferPointer(start: keyPointer, count: keyLength))
      let fingerprint = openSSHFingerprint(blob)
      let keyType = HostKeyType.forLibssh2Type(rawType)
      let typeName = keyType?.displayName ?? "unknown-type"
      warnings += try verifyHostKey(
        known: known, options: r, blob: blob, type: keyType, typeName: typeName, fingerprint: fingerprint)

      phase = "authentication"
      var auth = Authenticator(session: s, options: r, deadline: deadline)
      let how = try auth.authenticate()
      s.configureKeepalive(seconds: r.keepaliveInterval)
      return SSHSession(session: s, options: r, keyType: typeName, fingerprint: fingerprint, auth: how, warnings: warnings)
    } catch let e as SSHError where e.kind == .timeout {
      throw SSHError(
        .connectTimeout, host: r.name,
        "connecting to \(r.address) port \(r.port) timed out during \(phase) (after \(r.connectTimeout))")
    }
  }

  /// Applies the host key policy; returns warnings, or throws with OpenSSH's facts and a fix.
  private static func verifyHostKey(
    known: KnownHosts?, options r: ResolvedSSHOptions, blob: [UInt8], type: HostKeyType?, typeName: String,
    fingerprint: String
  ) throws -> [String] {
    let name = r.knownHostsName
    if r.hostKeyPolicy == .off {
      return ["host key checking is off: not verifying \(name)'s \(typeName) key \(fingerprint)"]
    }
    guard let known, let type else {
      throw SSHError(.hostKeyUnknown, host: r.name, "\(name) offered a \(typeName) host key, which dasprov cannot check")
    }
    switch known.check(name: name, key: blob, type: type) {
    case .match:
      return []
    case .mismatch(let line):
      let location = r.knownHostsFile + (line.map { ":\($0)" } ?? "")
      let fix = RemoteCommand(["ssh-keygen", "-R", name, "-f", r.knownHostsFile]).shellLine
      throw SSHError(
        .hostKeyChanged, host: r.name,
        "REMOTE HOST IDENTIFICATION HAS CHANGED for \(name): it sent the \(typeName) key \(fingerprint), "
          + "but \(location) holds a different \(typeName) key. Someone could be intercepting the connection, "
          + "or the host was reinstalled. If the change is expected, remove the old key with `\(fix)` and "
          + "connect again.")
    case .notFound:
      if r.hostKeyPolicy == .acceptNew {
        try known.append(name: name, key: blob, type: type)
        return ["permanently added \(name) (\(typeName) \(fingerprint)) to \(r.knownHostsFile)"]
      }
      var scan = ["ssh-keyscan"]
      if r.port != 22 { scan += ["-p", String(r.port)] }
      scan += ["-t", type.keyscanName, r.address]
      let fix = RemoteCommand(scan).shellLine + " >> " + r.knownHostsFile.shellQuoted
      throw SSHError(
        .hostKeyUnknown, host: r.name,
        "host key verification failed: no \(typeName) host key is known for \(name) in \(r.knownHostsFile) "
          + "and strict checking is on. The server's \(typeName) key fingerprint is \(fingerprint). If that is "
          + "the right key, add it with `\(fix)`, or run with `--host-key-checking accept-new` to record new keys.")
    }
  }

  // MARK: Serialised access

  /// Runs `body` with the libssh2 session under the lock; remembers a broken connection.
  private func withSession<T>(_ body: (Session) throws -> T) throws -> T {
    lock.lock()
    defer { lock.unlock() }
    if let broken { throw broken }
    guard let s = session else { throw SSHError(.disconnected, host: host, "the connection is closed") }
    s.operationStart = Deadline.now()
    do {
      return try body(s)
    } catch var e as SSHError {
      if e.host.isEmpty { e.host = host }
      switch e.kind {
      case .disconnected, .protocolError:
        broken = e
        sftpHandle = nil
      default: break
      }
      throw e
    }
  }

  private func sftp(_ s: Session) throws -> SFTP {
    if let sftpHandle { return sftpHandle }
    let h = try SFTP(session: s, deadline: Deadline(after: .seconds(30)))
    sftpHandle = h
    return h
  }

  public var stats: TransportStats { context.stats }

  /// Closes the connection (disconnect + free). Idempotent; `deinit` does it too.
  public func close() {
    lock.lock()
    defer { lock.unlock() }
    sftpHandle = nil
    session?.close()
    session = nil
  }

  // MARK: Commands

  /// The line the login shell runs: `exec [sudo -n --] [timeout -k 2 SECONDS] ARGV...`.
  ///
  /// `exec` makes the command itself the session's process, so an exit signal is reported as a
  /// signal and the SSH "signal" request reaches it (dash, Debian's sh, would otherwise fork
  /// and wait). `timeout(1)` runs the command in its own process group and kills the whole group
  /// when time is up, so `sh -c 'sleep 60'` leaves no orphan behind a client-side timeout. It
  /// goes inside sudo so that it may signal root processes. Every word is quoted by Core.
  static func remoteLine(_ argv: [String], sudo: Bool, timeout: Duration?) -> String {
    var words: [String] = []
    if sudo { words += ["sudo", "-n", "--"] }
    if let timeout {
      let (s, atto) = timeout.components
      let millis = max(1, s * 1000 + atto / 1_000_000_000_000_000)
      words += ["timeout", "-k", "2", String(format: "%d.%03d", millis / 1000, millis % 1000)]
    }
    return "exec " + RemoteCommand(words + argv).shellLine
  }

  /// The argument vector for `command`: as is, or `sh -c <quoted line>` under become (run
  /// through `sudo -n --` by `remoteLine`).
  static func commandArgv(_ command: RemoteCommand, become: Bool) -> [String] {
    become ? ["sh", "-c", command.shellLine] : command.argv
  }

  public func exec(
    _ command: RemoteCommand, stdin: ExecInput, timeout: Duration?, become: Bool?, output: ExecOutput
  ) throws -> ExecResult {
    let sudo = become ?? self.become
    let line = Self.remoteLine(Self.commandArgv(command, become: sudo), sudo: sudo, timeout: timeout)
    return try withSession { try run(line, in: $0, stdin: stdin, timeout: timeout, output: output) }
  }

  /// Scripts passed with `sh -c` must fit one argument (Linux `MAX_ARG_STRLEN` is 128 KiB).
  public static let maxInlineScriptBytes = 120 << 10

  /// `script` as `sh -s` receives it: one brace group, which the shell parses whole before it
  /// runs any of it. `sh -s` otherwise runs each line as it arrives, so a connection cut
  /// mid-send (dasprov killed, the network gone) would run the last line cut short:
  /// `rm -fr -- /opt/wso2das-3.1.0/…/Old.car` as `rm -fr -- /opt`. Now a partial script is a
  /// syntax error and runs nothing.
  public static func wholeOrNothing(_ script: String) -> String {
    "{\n" + script + (script.hasSuffix("\n") ? "" : "\n") + "}\n"
  }

  public func runScript(
    _ script: String, stdinAfterScript: ExecInput, timeout: Duration?, become: Bool?, output: ExecOutput
  ) throws -> ExecResult {
    let sudo = become ?? self.become
    let line: String
    let stdin: ExecInput
    if case .none = stdinAfterScript {
      // The script travels on stdin, so it never shows in the remote process list.
      line = Self.remoteLine(["sh", "-s"], sudo: sudo, timeout: timeout)
      stdin = .data(Data(Self.wholeOrNothing(script).utf8))
    } else {
      // `sh -s` would read ahead into the data that follows the script (dash reads stdin in
      // blocks), so the script goes in the argument and stdin carries only the data.
      guard script.utf8.count <= Self.maxInlineScriptBytes else {
        throw SSHError(.invalidArgument, host: host, "a script with stdin data must be at most \(Self.maxInlineScriptBytes) bytes")
      }
      line = Self.remoteLine(["sh", "-c", script], sudo: sudo, timeout: timeout)
      stdin = stdinAfterScript
    }
    return try withSession { try run(line, in: $0, stdin: stdin, timeout: timeout, output: output) }
  }

  /// Opens a channel, runs `line`, pumps stdin/stdout/stderr, and collects the exit status.
  /// One round trip. On timeout the command is signalled, the channel closed, `.timeout` thrown.
  private func run(_ line: String, in s: Session, stdin: ExecInput, timeout: Duration?, output: ExecOutput) throws -> ExecResult {
    s.context.countRoundTrip()
    let deadline = timeout.map { Deadline(after: $0) }
    let channel = try Channel(session: s, deadline: deadline)
    do {
      try channel.exec(line, deadline: deadline)
      var input = InputReader(stdin)
      var collector = OutputCollector(output)
      try channel.pump(input: &input, output: &collector, deadline: deadline)
      collector.finish()
      let end = try channel.finish(deadline: deadline)
      var result = ExecResult(status: end.status, signal: end.signal, stdout: collector.stdout, stderr: collector.stderr)
      result.stdoutTruncated = collector.stdoutTruncated
      result.stderrTruncated = collector.stderrTruncated
      return result
    } catch let e as SSHError where e.kind == .timeout {
      channel.abort()
      throw SSHError(.timeout, host: host, "command timed out after \(timeout.map { "\($0)" } ?? "?"): \(SecretMasker.shared.mask(line))")
    } catch {
      channel.free()
      throw error
    }
  }

  /// Runs `line` and throws `.commandFailed` (with the tail of stderr) unless it succeeds.
  private func runChecked(_ line: String, in s: Session) throws -> ExecResult {
    try run(line, in: s, stdin: .none, timeout: nil, output: .buffer())
      .checked(host: host, command: SecretMasker.shared.mask(line))
  }

  /// `sh -c SCRIPT`, through sudo under become.
  private static func scriptLine(_ script: ShellScript, become: Bool) -> String {
    remoteLine(["sh", "-c", script.text], sudo: become, timeout: nil)
  }

  /// One command, through `sudo -n -- sh -c` under become.
  private static func commandLine(_ command: RemoteCommand, become: Bool) -> String {
    remoteLine(commandArgv(command, become: become), sudo: become, timeout: nil)
  }

  // MARK: Files

  public func upload(
    _ source: UploadSource, to remotePath: String, mode: UInt16?, owner: String?, group: String?,
    become: Bool?, method: UploadMethod
  ) throws -> UploadResult {
    let useSudo = become ?? self.become
    let size: Int
    switch source {
    case .data(let d): size = d.count
    case .file(let path, _):
      guard let attrs = try? FileManager.default.attributesOfItem(atPath: path), let n = attrs[.size] as? NSNumber else {
        throw SSHError(.localFile, host: host, "cannot read \(path)")
      }
      size = n.intValue
    }
    var chosen = method
    if chosen == .auto { chosen = .exec }
    if chosen == .sftp && useSudo {
      throw SSHError(.invalidArgument, host: host, "SFTP cannot write as another user; under become use the exec method")
    }
    let plan = UploadPlan(destination: remotePath, mode: mode, owner: owner, group: group)
    return try withSession { s in
      chosen == .exec
        ? try uploadExec(source, size: size, plan: plan, become: useSudo, in: s)
        : try uploadSFTP(source, size: size, plan: plan, in: s)
    }
  }

  /// One exec channel: the data on stdin, then a line with its sha256 (hashed here on a thread
  /// of its own while sending); the remote script writes `head -c SIZE > tmp`, hashes the file,
  /// compares, sets mode and owner, fsyncs and renames. One round trip. If the stream is cut,
  /// `head` ends short, the checksum line is missing, and the script deletes the temp file.
  private func uploadExec(_ source: UploadSource, size: Int, plan: UploadPlan, become: Bool, in s: Session) throws -> UploadResult {
    let known = source.knownSHA256
    let hasher = known == nil ? BackgroundSHA256() : nil
    defer { hasher?.finish() }
    var reader = InputReader(source.execInput)
    var sent = 0
    var trailerSent = false
    let stdin = ExecInput.stream {
      if let chunk = try reader.next() {
        let take = chunk.prefix(size - sent)
        sent += take.count
        if !take.isEmpty {
          hasher?.update(take)
          return take
        }
      }
      if trailerSent { return nil }
      guard sent == size else {
        throw SSHError(.localFile, host: self.host, "the local file changed size during upload (\(sent) of \(size) bytes)")
      }
      trailerSent = true
      return Data(((known ?? hasher?.finalizeHex() ?? "") + "\n").utf8)
    }
    let script = plan.script(streamSize: size, expectedSHA256: nil)
    let result = try run(Self.scriptLine(script, become: become), in: s, stdin: stdin, timeout: nil, output: .buffer(limit: 1 << 16))
    return try plan.finish(result, host: host, bytes: size, method: .exec)
  }

  /// SFTP: open the temp file, stream pipelined writes from a bounded buffer, close; then one
  /// exec checks the sha256, sets mode/owner, fsyncs and renames (SFTP v3 rename cannot replace).
  private func uploadSFTP(_ source: UploadSource, size: Int, plan: UploadPlan, in s: Session) throws -> UploadResult {
    let sftp = try sftp(s)
    let file = try sftp.open(
      plan.temporary, flags: LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, mode: 0o600, deadline: nil)
    s.context.countRoundTrip()  // the data stream
    let known = source.knownSHA256
    let hasher = known == nil ? BackgroundSHA256() : nil
    defer { hasher?.finish() }
    var reader = InputReader(source.execInput)
    // Bounded memory: a 4 MiB window of not-yet-acknowledged bytes. libssh2 keeps up to that
    // much in flight as 30 000-byte SFTP writes.
    let capacity = 4 << 20
    var buffer = [UInt8](repeating: 0, count: capacity)
    var filled = 0, acked = 0, total = 0
    var pending = Data()
    var sourceDone = false
    while true {
      // Refill once at least a quarter is free, moving the unacknowledged bytes to the front.
      if !sourceDone && capacity - (filled - acked) >= capacity / 4 {
        if acked > 0 {
          buffer.withUnsafeMutableBytes { raw in
            raw.baseAddress!.copyMemory(from: raw.baseAddress! + acked, byteCount: filled - acked)
          }
          filled -= acked
          acked = 0
        }
        while filled < capacity {
          if pending.isEmpty {
            guard let next = try reader.next() else { sourceDone = true; break }
            pending = next
            hasher?.update(next)
          }
          let n = min(pending.count, capacity - filled)
          let slice = pending.prefix(n)
          buffer.withUnsafeMutableBytes { raw in
            slice.withUnsafeBytes { src in
              (raw.baseAddress! + filled).copyMemory(from: src.baseAddress!, byteCount: n)
            }
          }
          filled += n
          total += n
          pending = pending.dropFirst(n)
          if pending.isEmpty { pending = Data() }
        }
      }
      if acked == filled {
        if sourceDone { break }
        continue
      }
      let n = try buffer.withUnsafeBytes { raw in
        try file.write(UnsafeRawBufferPointer(rebasing: raw[acked..<filled]), deadline: nil)
      }
      acked += n
    }
    try file.close(deadline: nil)
    let script = plan.script(streamSize: nil, expectedSHA256: known ?? hasher?.finalizeHex() ?? "")
    let result = try run(Self.scriptLine(script, become: false), in: s, stdin: .none, timeout: nil, output: .buffer(limit: 1 << 16))
    return try plan.finish(result, host: host, bytes: total, method: .sftp)
  }

  public func download(_ remotePath: String, become: Bool?, maxBytes: Int) throws -> Data {
    if become ?? self.become {
      return try withSession { s in
        let line = Self.commandLine(RemoteCommand("cat", "--", remotePath), become: true)
        let result = try run(line, in: s, stdin: .none, timeout: nil, output: .buffer(limit: maxBytes))
          .checked(host: host, command: line)
        if result.stdoutTruncated { throw tooLarge(remotePath, maxBytes) }
        return result.stdout
      }
    }
    return try withSession { s in
      let file = try sftp(s).open(remotePath, flags: LIBSSH2_FXF_READ, mode: 0, deadline: nil)
      s.context.countRoundTrip()  // the data stream
      var out = Data()
      var buffer = [UInt8](repeating: 0, count: 1 << 20)
      while true {
        let n = try buffer.withUnsafeMutableBytes { try file.read(into: $0, deadline: nil) }
        if n == 0 { break }
        if out.count + n > maxBytes { throw tooLarge(remotePath, maxBytes) }
        out.append(contentsOf: buffer.prefix(n))
      }
      try file.close(deadline: nil)
      return out
    }
  }

  private func tooLarge(_ path: String, _ max: Int) -> SSHError {
    SSHError(.invalidArgument, host: host, "\(path) is larger than \(max) bytes")
  }

  public func stat(_ remotePath: String, followSymlinks: Bool, become: Bool?) throws -> RemoteFileInfo? {
    guard become ?? self.become else {
      return try withSession { try sftp($0).stat(remotePath, follow: followSymlinks, deadline: nil) }
    }
    // SFTP runs as the login user; as root, ask stat(1): raw mode in hex, uid, gid, size, mtime.
    var script = ShellScript()
    script.set("p", remotePath)
    if followSymlinks {
      script.raw(#"if [ -e "$p" ]; then exec stat -L -c '%f %u %g %s %Y' -- "$p"; fi"#)
    } else {
      script.raw(#"if [ -e "$p" ] || [ -L "$p" ]; then exec stat -c '%f %u %g %s %Y' -- "$p"; fi"#)
    }
    script.raw("echo missing")
    let out = try withSession { try runChecked(Self.scriptLine(script, become: true), in: $0) }.stdoutText
    let fields = out.split(whereSeparator: \.isWhitespace)
    if fields == ["missing"] { return nil }
    guard fields.count == 5, let raw = UInt32(fields[0], radix: 16), let uid = UInt32(fields[1]),
      let gid = UInt32(fields[2]), let size = UInt64(fields[3]), let mtime = Int64(fields[4])
    else { throw SSHError(.internalError, host: host, "unexpected stat output for \(remotePath): \(out)") }
    return RemoteFileInfo(rawMode: raw, uid: uid, gid: gid, size: size, mtime: mtime)
  }

  public func readlink(_ remotePath: String, become: Bool?) throws -> String {
    guard become ?? self.become else {
      return try withSession { try sftp($0).readlink(remotePath, deadline: nil) }
    }
    let line = Self.commandLine(RemoteCommand("readlink", "--", remotePath), become: true)
    var out = try withSession { try runChecked(line, in: $0) }.stdoutText
    if out.hasSuffix("\n") { out.removeLast() }
    return out
  }

  public func symlink(target: String, at path: String, replace: Bool, become: Bool?) throws {
    var script = ShellScript()
    if replace {
      // A new link under a temporary name, then rename(2) over the old one: atomic, and `-T`
      // keeps mv from moving into the directory an old link points to.
      script.set("p", path)
      script.set("t", UploadPlan.temporaryName(for: path))
      script.set("target", target)
      script.raw(#"ln -sn -- "$target" "$t" || exit 1"#)
      script.raw(#"mv -fT -- "$t" "$p" || { rm -f -- "$t"; exit 1; }"#)
    } else {
      // -n: an existing link to a directory is a file that exists, not a place to put the link.
      script.run("ln", "-sn", "--", target, path)
    }
    _ = try withSession { try runChecked(Self.scriptLine(script, become: become ?? self.become), in: $0) }
  }

  public func mkdirP(_ remotePath: String, mode: UInt16?, become: Bool?) throws {
    var script = ShellScript()
    script.raw("set -e")
    script.run("mkdir", "-p", "--", remotePath)
    if let mode { script.run("chmod", String(mode, radix: 8), "--", remotePath) }
    let line: String =
      mode == nil
      ? Self.commandLine(RemoteCommand("mkdir", "-p", "--", remotePath), become: become ?? self.become)
      : Self.scriptLine(script, become: become ?? self.become)
    _ = try withSession { try runChecked(line, in: $0) }
  }
}

extension UploadSource {
  var execInput: ExecInput {
    switch self {
    case .data(let d): .data(d)
    case .file(let p, _): .file(p)
    }
  }
}
