import CLibSSH2
import DasprovCore
import Foundation
import Synchronization

/// One SSH connection to one host, reused for every command and file operation of a run.
///
/// Connecting does TCP (IPv4/IPv6, `TCP_NODELAY`), key exchange, host key verification and
/// authentication within `SSHOptions.connectTimeout` (SSHSession+Connect.swift). Every method
/// blocks its calling thread and holds the session's lock, so libssh2 never sees two threads at
/// once; run hosts in parallel with `SSHPool`, one dedicated thread per host. Commands are here,
/// file operations in SSHSession+Files.swift.
public final class SSHSession: RemoteTransport, Sendable {
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
  /// Masks the run's secrets in the commands that errors quote.
  let masker: SecretMasker
  /// The jump host this session is tunnelled through (`user@host:port via …`), if any.
  public var jumpHost: String? { via?.display }

  /// The libssh2 session and its SFTP subsystem; only touched under the lock.
  final class Link {
    let session: Session
    private var sftpHandle: SFTP?

    init(session: Session) { self.session = session }

    /// The SFTP subsystem, started on first use (one channel, one round trip).
    func sftp() throws(SSHError) -> SFTP {
      if let sftpHandle { return sftpHandle }
      let h = try SFTP(session: session, deadline: Deadline(after: .seconds(30)))
      sftpHandle = h
      return h
    }

    /// Forgets the SFTP subsystem (after the connection broke).
    func dropSFTP() { sftpHandle = nil }

    /// Shuts the SFTP subsystem down before the session it runs in.
    func close() {
      sftpHandle = nil
      session.close()
    }
  }

  private struct State {
    var link: Link?
    /// Set when the connection broke; every later call fails fast with it.
    var broken: SSHError?
  }

  private let state: Mutex<State>
  private let context: SessionContext
  /// The jump host whose tunnel this session runs over; told when the session closes.
  private let via: Bastion?

  /// Takes the session over: from here on only this object's lock reaches it.
  init(_ login: sending Login, options: ResolvedSSHOptions, via: Bastion?) {
    self.context = login.session.context
    self.host = options.name
    self.address = options.address
    self.port = options.port
    self.user = options.user
    self.hostKeyType = login.keyType
    self.hostKeyFingerprint = login.fingerprint
    self.authenticatedWith = login.auth
    self.warnings = login.warnings
    self.become = options.become
    self.masker = options.masker
    self.via = via
    state = Mutex(State(link: Link(session: login.session)))
  }

  deinit { close() }

  // MARK: Serialised access

  /// Runs `body` with the libssh2 session under the lock; remembers a broken connection.
  func withSession<T: Sendable>(_ body: (Link) throws(SSHError) -> T) throws(SSHError) -> T {
    try state.withLock { (state) throws(SSHError) -> T in
      if let broken = state.broken { throw broken }
      guard let link = state.link else { throw SSHError(.disconnected, host: host, "the connection is closed") }
      link.session.operationStart = Deadline.now()
      do throws(SSHError) {
        return try body(link)
      } catch {
        var e = error
        if e.host.isEmpty { e.host = host }
        switch e.kind {
        case .disconnected, .protocolError:
          state.broken = e
          link.dropSFTP()
        default: break
        }
        throw e
      }
    }
  }

  public var stats: TransportStats { context.stats }

  /// Closes the connection (disconnect + free). Idempotent; `deinit` does it too.
  public func close() {
    let wasOpen = state.withLock { state in
      defer { state.link = nil }
      state.link?.close()
      return state.link != nil
    }
    if wasOpen { via?.sessionClosed() }
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
  ) throws(SSHError) -> ExecResult {
    let sudo = become ?? self.become
    let line = Self.remoteLine(Self.commandArgv(command, become: sudo), sudo: sudo, timeout: timeout)
    return try withSession { (link) throws(SSHError) in
      try run(line, in: link.session, stdin: stdin, timeout: timeout, output: output)
    }
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
  ) throws(SSHError) -> ExecResult {
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
    return try withSession { (link) throws(SSHError) in
      try run(line, in: link.session, stdin: stdin, timeout: timeout, output: output)
    }
  }

  /// Opens a channel, runs `line`, pumps stdin/stdout/stderr, and collects the exit status.
  /// One round trip. On timeout the command is signalled, the channel closed, `.timeout` thrown.
  func run(_ line: String, in s: Session, stdin: ExecInput, timeout: Duration?, output: ExecOutput) throws(SSHError) -> ExecResult {
    s.context.countRoundTrip()
    let deadline = timeout.map { Deadline(after: $0) }
    let channel = try Channel(session: s, deadline: deadline)
    do throws(SSHError) {
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
    } catch where error.kind == .timeout {
      channel.abort()
      throw SSHError(.timeout, host: host, "command timed out after \(timeout.map { "\($0)" } ?? "?"): \(masker.mask(line))")
    } catch {
      channel.free()
      throw error
    }
  }

  /// Runs `line` and throws `.commandFailed` (with the tail of stderr) unless it succeeds.
  func runChecked(_ line: String, in s: Session) throws(SSHError) -> ExecResult {
    try run(line, in: s, stdin: .none, timeout: nil, output: .buffer())
      .checked(host: host, command: masker.mask(line))
  }

  /// `sh -c SCRIPT`, through sudo under become.
  static func scriptLine(_ text: String, become: Bool) -> String {
    remoteLine(["sh", "-c", text], sudo: become, timeout: nil)
  }

  /// One command, through `sudo -n -- sh -c` under become.
  static func commandLine(_ command: RemoteCommand, become: Bool) -> String {
    remoteLine(commandArgv(command, become: become), sudo: become, timeout: nil)
  }
}
