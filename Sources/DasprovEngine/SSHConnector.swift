import DasprovCore
import DasprovSSH
import Foundation
import Synchronization

/// Connects inventory hosts with libssh2, one session per host per run, and one per jump host.
///
/// Reads the Ansible connection variables (`ansible_host`, `ansible_port`, `ansible_user`,
/// `ansible_ssh_private_key_file`, `ansible_password`, `ansible_become`,
/// `ansible_ssh_common_args`, `ansible_ssh_extra_args`) and dasprov's own
/// (`dasprov_known_hosts`, `dasprov_host_key_checking`); `~/.ssh/config` and
/// `/etc/ssh/ssh_config` fill the rest.
public struct SSHConnector: Connector {
  public var knownHostsOverride: String?
  public var policyOverride: String?
  /// Relative key and known_hosts paths in the inventory are relative to the inventory's directory.
  public var inventoryDirectory: String
  public var connectTimeout: Double
  /// The run's bastions: every host behind one shares its session (one login per run).
  public let jumpHosts = JumpHosts()
  /// Where warnings go (SSH options not applied, `Match exec` skipped, keys recorded): each
  /// distinct one once, to stderr unless replaced.
  public var warn: @Sendable (String) -> Void
  /// The run's secrets: SSH passwords join them; errors quoting commands are masked with them.
  public var masker: SecretMasker
  /// The process environment, read once: building it is not free, and every host's options
  /// read it several times.
  let environment = ProcessInfo.processInfo.environment

  public init(
    knownHostsOverride: String? = nil, policyOverride: String? = nil, inventoryDirectory: String = ".",
    connectTimeout: Double = 10, masker: SecretMasker = SecretMasker(), warn: (@Sendable (String) -> Void)? = nil
  ) {
    self.masker = masker
    self.knownHostsOverride = knownHostsOverride
    self.policyOverride = policyOverride
    self.inventoryDirectory = inventoryDirectory.isEmpty ? "." : inventoryDirectory
    self.connectTimeout = connectTimeout
    self.warn = warn ?? OnceToStderr().say
  }

  func path(_ p: String) -> String {
    if p.hasPrefix("/") || p.hasPrefix("~") { return (p as NSString).expandingTildeInPath }
    return (inventoryDirectory as NSString).appendingPathComponent(p)
  }

  /// The ssh options in `ansible_ssh_common_args`, then `ansible_ssh_extra_args` (Ansible puts
  /// them on ssh's command line in that order, so the first value of an option wins).
  public func commandLine(for host: HostSpec) throws(ConnectError) -> SSHCommandLine {
    var line = SSHCommandLine()
    for name in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
      guard let text = host.vars[name]?.description else { continue }
      do throws(SSHError) {
        try line.parse(text)
      } catch {
        throw ConnectError(.configuration, "\(name) of \(host.name): \(error.message)")
      }
    }
    return line
  }

  /// The libssh2 options for a host, from its inventory variables. The inventory's own
  /// variables win over the same options in `ansible_ssh_*_args`, as on Ansible's ssh command
  /// line; `--known-hosts` and `--host-key-checking` win over both.
  public func options(for host: HostSpec) throws(ConnectError) -> SSHOptions {
    try options(for: host, line: commandLine(for: host))
  }

  private func options(for host: HostSpec, line: SSHCommandLine) throws(ConnectError) -> SSHOptions {
    let v = host.vars
    var options = SSHOptions(host: v["ansible_host"]?.description ?? host.name, name: host.name, masker: masker)
    if let port = v["ansible_port"] {
      guard let p = port.intValue, (1...65535).contains(p) else {
        throw ConnectError(.configuration, "ansible_port '\(port.description)' is not a port number")
      }
      options.port = p
    } else {
      options.port = line.port
    }
    options.user = v["ansible_user"]?.description ?? v["ansible_ssh_user"]?.description ?? line.user
    if let key = v["ansible_ssh_private_key_file"]?.description ?? v["ansible_private_key_file"]?.description {
      options.privateKeyFiles = [path(key)]
    }
    for key in line.identityFiles.map({ ($0 as NSString).expandingTildeInPath }) where !options.privateKeyFiles.contains(key) {
      options.privateKeyFiles.append(key)
    }
    options.password = v["ansible_password"]?.description ?? v["ansible_ssh_pass"]?.description
    options.knownHostsFile =
      knownHostsOverride.map(path) ?? v["dasprov_known_hosts"].map { path($0.description) }
      ?? line.knownHostsFile.map { ($0 as NSString).expandingTildeInPath }
    if let policy = policyOverride ?? v["dasprov_host_key_checking"]?.description {
      guard let p = HostKeyPolicy(rawValue: policy) else {
        throw ConnectError(.configuration, "host key checking '\(policy)' is not strict, accept-new or off")
      }
      options.hostKeyPolicy = p
    } else {
      options.hostKeyPolicy = line.hostKeyPolicy ?? .strict
    }
    options.become = v["ansible_become"]?.isTruthy ?? false
    options.connectTimeout = line.connectTimeoutSeconds.map { .seconds($0) } ?? .milliseconds(Int(connectTimeout * 1000))
    if let interval = line.keepaliveInterval { options.keepaliveInterval = interval }
    if line.identitiesOnly == true { options.useAgent = false }
    options.sshConfigFile = line.configFile.map { ($0 as NSString).expandingTildeInPath }
    options.proxyJump = line.proxyJump
    options.proxyCommand = line.proxyCommand
    if options.environment == nil { options.environment = environment }
    for key in options.privateKeyFiles { options.signers[key] = Ed25519Signer.cached(key) }
    return options
  }

  public func connect(_ host: HostSpec) throws(ConnectError) -> HostConnection {
    let line = try commandLine(for: host)
    let options = try options(for: host, line: line)
    if !line.ignored.isEmpty {
      warn("\(host.name): ssh options in ansible_ssh_common_args/ansible_ssh_extra_args that dasprov does not apply: \(line.ignored.joined(separator: ", "))")
    }
    do throws(SSHError) {
      let session = try SSHSession.connect(options, jumpHosts: jumpHosts)
      for warning in session.warnings { warn("\(host.name): \(warning)") }
      return SSHHostConnection(session: session, jumpHosts: jumpHosts)
    } catch {
      throw ConnectError(error)
    }
  }
}

/// Prints each distinct warning once (hosts behind one config line would repeat it), to stderr.
private final class OnceToStderr: Sendable {
  private let seen = Mutex<Set<String>>([])

  @Sendable func say(_ message: String) {
    // "host: text" repeats per host; the text alone decides.
    let text = message.split(separator: ":", maxSplits: 1).last.map(String.init) ?? message
    guard seen.withLock({ $0.insert(text).inserted }) else { return }
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
  }
}

extension ConnectError {
  /// What a failed connection means to the user: a host key to check, a login to fix, or a host
  /// that cannot be reached.
  init(_ error: SSHError) {
    switch error.kind {
    case .hostKeyUnknown, .hostKeyChanged, .knownHostsFile: self.init(.hostKey, error.message)
    case .authenticationFailed: self.init(.authentication, error.message)
    case .invalidArgument: self.init(.configuration, error.message)
    default: self.init(.unreachable, error.message)
    }
  }
}

/// A libssh2 session as the engine's `HostConnection`. Sendable as it stands: the session
/// serialises its own calls under its lock (libssh2 allows one thread at a time per session).
final class SSHHostConnection: HostConnection, Sendable {
  let session: SSHSession
  let jumpHosts: JumpHosts

  init(session: SSHSession, jumpHosts: JumpHosts) {
    self.session = session
    self.jumpHosts = jumpHosts
  }

  func runScript(_ script: String, timeout: Double?) throws -> CommandOutput {
    let result = try session.runScript(script, timeout: timeout.map { .milliseconds(Int($0 * 1000)) })
    return CommandOutput(status: result.status, stdout: Array(result.stdout), stderr: Array(result.stderr))
  }

  func upload(localPath: String, to remotePath: String, mode: Int) throws {
    try session.mkdirP((remotePath as NSString).deletingLastPathComponent, mode: nil, become: nil)
    _ = try session.upload(.file(localPath), to: remotePath, mode: UInt16(mode))
  }

  func read(_ remotePath: String) throws -> [UInt8] {
    Array(try session.download(remotePath, become: nil, maxBytes: 64 << 20))
  }

  var roundTrips: Int { session.stats.roundTrips }
  var channelsOpened: Int { session.stats.channelsOpened }
  var bytesReceived: Int { session.stats.channelBytesReceived }

  /// Closes the session, then every jump host no other session still uses.
  func close() {
    session.close()
    jumpHosts.closeIdle()
  }
}
