import DasprovCore
import Foundation

/// How to treat a host key that is not in the known-hosts file, or differs from it.
public enum HostKeyPolicy: String, Sendable, CaseIterable {
  /// Refuse unknown and changed keys (OpenSSH `StrictHostKeyChecking yes`). The default.
  case strict
  /// Record unknown keys in the known-hosts file; still refuse changed ones (`accept-new`).
  case acceptNew = "accept-new"
  /// Check nothing. Only when asked for explicitly; `SSHSession.warnings` says so.
  case off
}

/// How to reach and log in to one host. Unset values come from `~/.ssh/config`, then defaults.
///
/// Secrets (password, passphrase) are never taken from command-line flags: the engine fills
/// `password` from the inventory's `ansible_password`, and the environment supplies
/// `DASPROV_SSH_PASSWORD` / `DASPROV_SSH_PASSPHRASE`.
public struct SSHOptions: Sendable {
  /// The address to connect to (`ansible_host`, else the inventory name). Also what `Host`
  /// patterns in `~/.ssh/config` are matched against.
  public var host: String
  /// The name used in messages (the inventory host name). Defaults to `host`.
  public var name: String?
  /// `ansible_port`; else `Port` from the SSH config; else 22.
  public var port: Int?
  /// `ansible_user`; else `User` from the SSH config; else the local user name.
  public var user: String?
  /// `ansible_ssh_private_key_file`. When empty: `IdentityFile` from the SSH config, else
  /// `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` (as OpenSSH does when none is given).
  public var privateKeyFiles: [String]
  /// `ansible_password`; else `DASPROV_SSH_PASSWORD`.
  public var password: String?
  /// For encrypted keys; else `DASPROV_SSH_PASSPHRASE`; else a prompt, only if stdin is a TTY.
  public var passphrase: String?
  /// Defaults to `~/.ssh/known_hosts`.
  public var knownHostsFile: String?
  public var hostKeyPolicy: HostKeyPolicy
  /// Bounds TCP connect, key exchange and authentication together.
  public var connectTimeout: Duration
  /// Seconds between keepalives while waiting on the server (0 disables). Three unanswered
  /// intervals in a row mean the connection is dead.
  public var keepaliveInterval: Int
  /// Run commands and write files through `sudo -n` (`ansible_become`).
  public var become: Bool
  /// Try keys held by ssh-agent (`SSH_AUTH_SOCK`) first.
  public var useAgent: Bool
  /// The SSH config to read; `nil` means `~/.ssh/config` then `/etc/ssh/ssh_config` (as `ssh`
  /// reads them), `""` means none, a path means that file alone (as `ssh -F`).
  public var sshConfigFile: String?
  /// Jump hosts from the inventory (`-J` or `-o ProxyJump` in `ansible_ssh_common_args`), as
  /// written: `[user@]host[:port][,…]`, or `none`. `nil`: whatever the SSH config says.
  public var proxyJump: String?
  /// A `ProxyCommand` from the inventory. Only `ssh -W %h:%p [-q] [user@]bastion` is
  /// supported: it means the same as a jump through `bastion`.
  public var proxyCommand: String?
  /// The environment to read `HOME`, `USER`, `SSH_AUTH_SOCK` and the `DASPROV_SSH_*` variables
  /// from; `nil` means the process environment. Lets tests run in parallel without `setenv`.
  public var environment: [String: String]?
  /// The run's secrets: a password or passphrase from the environment is added to it, and
  /// commands quoted in errors are masked with it.
  public var masker: SecretMasker
  /// Signs with a key file's key in-process, by the file's path: a key parsed once serves every
  /// host, where libssh2 would read and parse the file again for each.
  public var signers: [String: any SSHSigner] = [:]

  public init(
    host: String, name: String? = nil, port: Int? = nil, user: String? = nil,
    privateKeyFiles: [String] = [], password: String? = nil, passphrase: String? = nil,
    knownHostsFile: String? = nil, hostKeyPolicy: HostKeyPolicy = .strict,
    connectTimeout: Duration = .seconds(10), keepaliveInterval: Int = 15, become: Bool = false,
    useAgent: Bool = true, sshConfigFile: String? = nil, proxyJump: String? = nil, proxyCommand: String? = nil,
    environment: [String: String]? = nil, masker: SecretMasker = SecretMasker()
  ) {
    self.masker = masker
    self.host = host
    self.name = name
    self.port = port
    self.user = user
    self.privateKeyFiles = privateKeyFiles
    self.password = password
    self.passphrase = passphrase
    self.knownHostsFile = knownHostsFile
    self.hostKeyPolicy = hostKeyPolicy
    self.connectTimeout = connectTimeout
    self.keepaliveInterval = keepaliveInterval
    self.become = become
    self.useAgent = useAgent
    self.sshConfigFile = sshConfigFile
    self.proxyJump = proxyJump
    self.proxyCommand = proxyCommand
    self.environment = environment
  }

  /// The name for messages.
  public var displayName: String { name ?? host }

  var env: [String: String] { environment ?? ProcessInfo.processInfo.environment }

  var home: String {
    if let h = env["HOME"], !h.isEmpty { return h }
    return NSHomeDirectory()
  }

  var localUser: String {
    if let u = env["USER"] ?? env["LOGNAME"], !u.isEmpty { return u }
    return NSUserName()
  }

  /// The configuration files `ssh` would read with these options.
  var configFiles: SSHConfigFiles {
    switch sshConfigFile {
    case nil: SSHConfigFiles(home: home, localUser: localUser, userFile: home + "/.ssh/config")
    case ""?: SSHConfigFiles(home: home, localUser: localUser, userFile: nil, systemFile: nil)
    case let path?: SSHConfigFiles(home: home, localUser: localUser, userFile: expandTilde(path), systemFile: nil)
    }
  }

  /// The options with every unset value filled from the SSH config and the defaults. Throws
  /// `.invalidArgument` for a jump chain that does not parse or a ProxyCommand dasprov cannot
  /// run.
  func resolved() throws(SSHError) -> ResolvedSSHOptions {
    var given = SSHConfig.Settings(user: user, port: port)
    given.proxyJump = proxyJump
    given.proxyCommand = proxyJump == nil ? proxyCommand : nil
    let config = SSHConfig.resolve(host: host, given: given, files: configFiles)
    let user = config.user ?? localUser
    let port = config.port ?? 22
    let address = config.hostName ?? host
    var keys = privateKeyFiles.map { expandTilde($0) }
    if keys.isEmpty {
      keys = config.identityFiles.map { identityFile($0, address: address, port: port, user: user) }
    }
    let explicitKeys = !keys.isEmpty
    if keys.isEmpty { keys = ["id_ed25519", "id_ecdsa", "id_rsa"].map { home + "/.ssh/" + $0 } }
    var warnings = config.warnings
    let tokens: [Character: String] = ["h": address, "n": host, "p": String(port), "r": user]
    var jumps: [JumpHost] = []
    do throws(SSHError) {
      if let jump = config.proxyJump {
        jumps = try JumpHost.chain(SSHConfig.expand(jump, tokens: tokens))
      } else if let command = config.proxyCommand, command.lowercased() != "none" {
        var ignored: [String] = []
        guard let chain = JumpHost.fromProxyCommand(command, ignored: &ignored) else {
          throw SSHError(
            .invalidArgument, host: displayName,
            "ProxyCommand '\(command)' for \(displayName) is not supported: dasprov reaches hosts through jump hosts "
              + "(ProxyJump, -J, or ProxyCommand=\"ssh -W %h:%p [user@]bastion\")")
        }
        jumps = chain
        if !ignored.isEmpty {
          warnings.append("ProxyCommand options not applied to the jump host: \(ignored.joined(separator: ", "))")
        }
      }
    } catch {
      var e = error
      e.host = displayName
      if !e.message.contains(displayName) { e.message = "\(displayName): \(e.message)" }
      throw e
    }
    return ResolvedSSHOptions(
      name: displayName, address: address, port: port, user: user,
      keyFiles: keys, keyFilesExplicit: explicitKeys, signers: signers,
      password: password ?? env["DASPROV_SSH_PASSWORD"],
      passphrase: passphrase ?? env["DASPROV_SSH_PASSPHRASE"],
      knownHostsFile: expandTilde(knownHostsFile ?? "~/.ssh/known_hosts"),
      hostKeyPolicy: hostKeyPolicy, connectTimeout: connectTimeout, masker: masker,
      keepaliveInterval: max(0, keepaliveInterval), become: become,
      agentSocket: useAgent ? env["SSH_AUTH_SOCK"].flatMap { $0.isEmpty ? nil : $0 } : nil,
      jumps: jumps, warnings: warnings)
  }

  /// An `IdentityFile` from the config: `~` and the tokens ssh expands in it (not `%C`, `%k`,
  /// `%l`, `%L`, which stay as written).
  func identityFile(_ raw: String, address: String, port: Int, user: String) -> String {
    SSHConfig.expand(
      expandTilde(raw),
      tokens: ["d": home, "h": address, "n": host, "p": String(port), "r": user, "u": localUser, "i": String(getuid())])
  }

  func expandTilde(_ path: String) -> String {
    if path == "~" { return home }
    if path.hasPrefix("~/") { return home + path.dropFirst(1) }
    return path
  }
}

/// `SSHOptions` after the SSH config and defaults are applied: every value the session needs.
struct ResolvedSSHOptions: Sendable {
  var name: String
  var address: String
  var port: Int
  var user: String
  var keyFiles: [String]
  /// Whether `keyFiles` were named (so a missing one is worth mentioning).
  var keyFilesExplicit: Bool
  var signers: [String: any SSHSigner]
  var password: String?
  var passphrase: String?
  var knownHostsFile: String
  var hostKeyPolicy: HostKeyPolicy
  var connectTimeout: Duration
  var masker: SecretMasker
  var keepaliveInterval: Int
  var become: Bool
  var agentSocket: String?
  /// The jump hosts to go through, first hop first; empty for a direct connection.
  var jumps: [JumpHost] = []
  /// What the configuration files said that the user should hear (skipped `Match exec`, …).
  var warnings: [String] = []

  /// The host as OpenSSH writes it in known_hosts: `host`, or `[host]:port` off port 22.
  var knownHostsName: String {
    port == 22 ? address.lowercased() : "[\(address.lowercased())]:\(port)"
  }
}

/// A private key that signs in-process (`SSHOptions.signers`): the public key blob the server is
/// offered (`string algorithm, string key`), and raw signatures (libssh2 adds the algorithm).
public protocol SSHSigner: Sendable {
  var publicKeyBlob: [UInt8] { get }
  func sign(_ data: [UInt8]) -> [UInt8]?
}
