import DasprovCore
import DasprovSSH
import Foundation

/// Connects inventory hosts with libssh2, one session per host per run.
///
/// Reads the Ansible connection variables (`ansible_host`, `ansible_port`, `ansible_user`,
/// `ansible_ssh_private_key_file`, `ansible_password`, `ansible_become`) and dasprov's own
/// (`dasprov_known_hosts`, `dasprov_host_key_checking`); `~/.ssh/config` fills the rest.
public struct SSHConnector: Connector {
  public var knownHostsOverride: String?
  public var policyOverride: String?
  /// Relative key and known_hosts paths in the inventory are relative to the inventory's directory.
  public var inventoryDirectory: String
  public var connectTimeout: Double
  /// The process environment, read once: building it is not free, and every host's options
  /// read it several times.
  let environment = ProcessInfo.processInfo.environment

  public init(knownHostsOverride: String? = nil, policyOverride: String? = nil, inventoryDirectory: String = ".", connectTimeout: Double = 10) {
    self.knownHostsOverride = knownHostsOverride
    self.policyOverride = policyOverride
    self.inventoryDirectory = inventoryDirectory.isEmpty ? "." : inventoryDirectory
    self.connectTimeout = connectTimeout
  }

  func path(_ p: String) -> String {
    if p.hasPrefix("/") || p.hasPrefix("~") { return (p as NSString).expandingTildeInPath }
    return (inventoryDirectory as NSString).appendingPathComponent(p)
  }

  /// The libssh2 options for a host, from its inventory variables.
  public func options(for host: HostSpec) throws(ConnectError) -> SSHOptions {
    let v = host.vars
    var options = SSHOptions(host: v["ansible_host"]?.description ?? host.name, name: host.name)
    if let port = v["ansible_port"] {
      guard let p = port.intValue, (1...65535).contains(p) else {
        throw ConnectError(.configuration, "ansible_port '\(port.description)' is not a port number")
      }
      options.port = p
    }
    options.user = v["ansible_user"]?.description ?? v["ansible_ssh_user"]?.description
    if let key = v["ansible_ssh_private_key_file"]?.description ?? v["ansible_private_key_file"]?.description {
      options.privateKeyFiles = [path(key)]
    }
    options.password = v["ansible_password"]?.description ?? v["ansible_ssh_pass"]?.description
    options.knownHostsFile = knownHostsOverride.map(path) ?? v["dasprov_known_hosts"].map { path($0.description) }
    let policy = policyOverride ?? v["dasprov_host_key_checking"]?.description ?? "strict"
    guard let p = HostKeyPolicy(rawValue: policy) else {
      throw ConnectError(.configuration, "host key checking '\(policy)' is not strict, accept-new or off")
    }
    options.hostKeyPolicy = p
    options.become = v["ansible_become"]?.isTruthy ?? false
    options.connectTimeout = .milliseconds(Int(connectTimeout * 1000))
    options.environment = environment
    for key in options.privateKeyFiles { options.signers[key] = Ed25519Signer.cached(key) }
    return options
  }

  public func connect(_ host: HostSpec) throws(ConnectError) -> HostConnection {
    let options = try options(for: host)
    do {
      return SSHHostConnection(session: try SSHSession.connect(options))
    } catch let error as SSHError {
      switch error.kind {
      case .hostKeyUnknown, .hostKeyChanged, .knownHostsFile: throw ConnectError(.hostKey, error.message)
      case .authenticationFailed: throw ConnectError(.authentication, error.message)
      default: throw ConnectError(.unreachable, error.message)
      }
    } catch {
      throw ConnectError(.unreachable, "\(error)")
    }
  }
}

/// A libssh2 session as the engine's `HostConnection`.
/// The session serialises its own calls (libssh2 allows one thread at a time per session).
final class SSHHostConnection: HostConnection, @unchecked Sendable {
  let session: SSHSession

  init(session: SSHSession) { self.session = session }

  func runScript(_ script: String, timeout: Double?) throws -> RemoteOutput {
    let result = try session.runScript(script, timeout: timeout.map { .milliseconds(Int($0 * 1000)) })
    return RemoteOutput(status: result.status, stdout: Array(result.stdout), stderr: Array(result.stderr))
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
  func close() { session.close() }
}
