import Foundation
import Synchronization

/// The run's jump hosts (bastions): one SSH session to each, opened on first use and shared by
/// every host behind it, whatever the number of hosts and threads — one login per bastion per
/// run. A failed login is remembered and re-thrown to every later host behind that bastion.
///
/// A chain `b1,b2` reaches `b2` through a tunnel over `b1`'s session, and the target through a
/// tunnel over `b2`'s. Bastions stay open until `closeAll()` (or the registry goes away) and
/// while a session that tunnels through them is open.
public final class JumpHosts: Sendable {
  private let entries = Mutex<[String: Entry]>([:])

  /// One bastion's session or failure; its lock is held while logging in, so a second host
  /// behind the same bastion waits for the first login instead of making another.
  private final class Entry: Sendable {
    let outcome = Mutex<Result<Bastion, SSHError>?>(nil)
  }

  public init() {}

  deinit { closeAll() }

  /// How many bastion sessions this registry has opened (successful logins).
  public var logins: Int {
    let all = entries.withLock { Array($0.values) }
    return all.filter { entry in entry.outcome.withLock { (try? $0?.get()) != nil } }.count
  }

  /// Disconnects every bastion that no open session still tunnels through; the others follow
  /// when their last session closes.
  public func closeAll() {
    let all = entries.withLock { entries in
      defer { entries = [:] }
      return Array(entries.values)
    }
    for entry in all { entry.outcome.withLock { try? $0?.get() }?.release() }
  }

  /// Disconnects the bastions no session tunnels through any more, and forgets them (a later
  /// host behind one logs in again). Call it after closing sessions: the jump hosts are then
  /// gone before the run ends, not torn down by whichever thread drops the registry last.
  public func closeIdle() {
    while true {
      let all = entries.withLock { $0 }
      let idle = all.filter { _, entry in entry.outcome.withLock { (try? $0?.get())?.isIdle ?? false } }
      guard !idle.isEmpty else { return }
      entries.withLock { entries in
        for key in idle.keys { entries[key] = nil }
      }
      // Releasing one hop of a chain can leave the hop before it idle: hence the loop.
      for entry in idle.values { entry.outcome.withLock { try? $0?.get() }?.release() }
    }
  }

  /// The bastion at the end of `chain`, logging in to each hop not yet connected.
  ///
  /// Each hop authenticates as the jump spec's user, else its `User` in the SSH config, else
  /// the local user; with the spec's identities, else those the SSH config gives the hop,
  /// else the target's (`ansible_ssh_private_key_file`). Host keys are checked like the
  /// target's, against the same known-hosts file and policy.
  func bastion(for chain: [JumpHost], target: ResolvedSSHOptions, options: SSHOptions, depth: Int = 0) throws(SSHError) -> Bastion {
    guard depth < 8 else {
      throw SSHError(.invalidArgument, host: target.name, "jump hosts nest more than 8 deep (a ProxyJump loop in the SSH config?)")
    }
    var parent: Bastion?
    for (index, hop) in chain.enumerated() {
      var o = SSHOptions(
        host: hop.host, name: hop.host, port: hop.port, user: hop.user, privateKeyFiles: hop.identityFiles,
        passphrase: options.passphrase, knownHostsFile: target.knownHostsFile, hostKeyPolicy: target.hostKeyPolicy,
        connectTimeout: target.connectTimeout, keepaliveInterval: target.keepaliveInterval, become: false,
        useAgent: options.useAgent, sshConfigFile: options.sshConfigFile, environment: options.environment,
        masker: options.masker)
      // Later hops go through the earlier ones; the first may have a ProxyJump of its own.
      if index > 0 { o.proxyJump = "none" }
      var r = try o.resolved()
      if !r.keyFilesExplicit && target.keyFilesExplicit {
        o.privateKeyFiles = target.keyFiles
        r = try o.resolved()
      }
      if index == 0 && !r.jumps.isEmpty {
        parent = try bastion(for: r.jumps, target: target, options: options, depth: depth + 1)
      }
      parent = try connect(hop: r, via: parent)
    }
    guard let parent else { throw SSHError(.invalidArgument, host: target.name, "an empty jump host chain") }
    return parent
  }

  /// The session to one hop, shared by everyone who names the same user, address and port
  /// through the same earlier hops.
  private func connect(hop r: ResolvedSSHOptions, via parent: Bastion?) throws(SSHError) -> Bastion {
    let key = "\(r.user)@\(r.knownHostsName)" + (parent.map { " via \($0.key)" } ?? "")
    let entry = entries.withLock { entries in
      if let e = entries[key] { return e }
      let e = Entry()
      entries[key] = e
      return e
    }
    return try entry.outcome.withLock { (outcome) throws(SSHError) -> Bastion in
      if let outcome { return try outcome.get() }
      let result = Result { () throws(SSHError) in try Bastion.login(r, via: parent, key: key) }
      outcome = result
      return try result.get()
    }
  }
}

/// One logged-in jump host and the thread that carries its tunnels.
///
/// It closes once the registry has let it go and no session (or bastion further down a chain)
/// tunnels through it any more.
final class Bastion: Sendable {
  /// `user@host:port via …`, the registry's key.
  let key: String
  /// How the jump host is named in messages: `root@10.0.0.1:22`.
  let display: String
  /// What its login (and its parent's) had to say, for the sessions tunnelled through it: a
  /// key recorded under accept-new, checking turned off, SSH config lines skipped.
  let warnings: [String]
  private let pump: TunnelPump
  /// The bastion this one is reached through; kept open while this one is.
  private let parent: Bastion?
  private let users = Mutex((count: 0, released: false))

  private init(key: String, display: String, warnings: [String], pump: TunnelPump, parent: Bastion?) {
    self.key = key
    self.display = display
    self.warnings = warnings
    self.pump = pump
    self.parent = parent
  }

  deinit { shutDown() }

  /// Connects (directly, or through `parent`), checks the host key and logs in, then hands
  /// the session to a pump thread.
  static func login(_ r: ResolvedSSHOptions, via parent: Bastion?, key: String) throws(SSHError) -> Bastion {
    let deadline = Deadline(after: r.connectTimeout)
    let socket: Int32
    if let parent {
      socket = try parent.openTunnel(to: r.address, port: r.port, deadline: deadline)
      parent.retain()
    } else {
      socket = try TCPSocket.connect(host: r.address, port: r.port, deadline: deadline, label: r.name)
    }
    do throws(SSHError) {
      let login = try SSHSession.establish(r, socket: socket, isTCP: parent == nil, deadline: deadline)
      let display = "\(r.user)@\(r.address):\(r.port)" + (parent.map { " via \($0.display)" } ?? "")
      let warnings = (parent?.warnings ?? []) + login.warnings.map { "jump host \(r.name): \($0)" }
      let pump = try TunnelPump(session: login.session)
      return Bastion(key: key, display: display, warnings: warnings, pump: pump, parent: parent)
    } catch {
      parent?.sessionClosed()
      throw error
    }
  }

  /// A socket connected, through this jump host, to `address`:`port`.
  func openTunnel(to address: String, port: Int, deadline: Deadline) throws(SSHError) -> Int32 {
    try pump.open(host: address, port: port, deadline: deadline)
  }

  /// Whether no session (or bastion further down a chain) tunnels through this one.
  var isIdle: Bool { users.withLock { $0.count <= 0 } }

  /// A session now tunnels through this bastion.
  func retain() { users.withLock { $0.count += 1 } }

  /// A session that tunnelled through this bastion closed.
  func sessionClosed() {
    let last = users.withLock { users in
      users.count -= 1
      return users.count <= 0 && users.released
    }
    if last { shutDown() }
  }

  /// The registry lets go: close now unless sessions still tunnel through.
  func release() {
    let unused = users.withLock { users in
      users.released = true
      return users.count <= 0
    }
    if unused { shutDown() }
  }

  /// Stops the pump (once), which disconnects; then this bastion no longer uses its parent.
  private func shutDown() {
    if pump.stop() { parent?.sessionClosed() }
  }
}
