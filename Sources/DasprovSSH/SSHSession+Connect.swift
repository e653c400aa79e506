import CLibSSH2
import DasprovCore
import Foundation

// Connecting: TCP, key exchange, the host key check under the options' policy, and login.
extension SSHSession {
  /// Connects, verifies the host key under the options' policy, and logs in; through the jump
  /// hosts the options or the SSH config name, sharing their sessions through `jumpHosts`
  /// (without one, this connection gets jump host sessions of its own).
  public static func connect(_ options: SSHOptions, jumpHosts: JumpHosts? = nil) throws(SSHError) -> SSHSession {
    let r = try options.resolved()
    // Secrets from the environment are masked like the inventory's are.
    for secret in [r.password, r.passphrase].compactMap({ $0 }) { r.masker.add(secret) }
    let deadline = Deadline(after: r.connectTimeout)
    guard !r.jumps.isEmpty else {
      let fd = try TCPSocket.connect(host: r.address, port: r.port, deadline: deadline, label: r.name)
      return SSHSession(try establish(r, socket: fd, isTCP: true, deadline: deadline), options: r, via: nil)
    }
    let registry = jumpHosts ?? JumpHosts()
    let bastion: Bastion
    do throws(SSHError) {
      bastion = try registry.bastion(for: r.jumps, target: r, options: options)
    } catch {
      throw error.reached(through: r)
    }
    // Counted from before the tunnel opens, so the bastion is never idle under a connect.
    bastion.retain()
    do throws(SSHError) {
      let fd: Int32
      do throws(SSHError) {
        fd = try bastion.openTunnel(to: r.address, port: r.port, deadline: deadline)
      } catch {
        throw error.reached(through: r)
      }
      var login = try establish(r, socket: fd, isTCP: false, deadline: deadline)
      login.warnings = bastion.warnings + login.warnings
      return SSHSession(login, options: r, via: bastion)
    } catch {
      bastion.sessionClosed()
      throw error
    }
  }

  /// A session past key exchange, the host key check and authentication.
  struct Login {
    let session: Session
    let keyType: String
    let fingerprint: String
    let auth: String
    var warnings: [String]
  }

  /// Key exchange, host key verification and authentication on a connected socket (TCP, or a
  /// tunnel through a jump host), all before `deadline`. Takes ownership of `socket`.
  static func establish(_ r: ResolvedSSHOptions, socket fd: Int32, isTCP: Bool, deadline: Deadline) throws(SSHError) -> Login {
    let s = try Session(socket: fd, label: r.name, isTCP: isTCP)
    var phase = "key exchange"
    do throws(SSHError) {
      var warnings = r.warnings
      var known: KnownHosts?
      do throws(SSHError) {
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
      return Login(session: s, keyType: typeName, fingerprint: fingerprint, auth: how, warnings: warnings)
    } catch where error.kind == .timeout {
      throw SSHError(
        .connectTimeout, host: r.name,
        "connecting to \(r.address) port \(r.port) timed out during \(phase) (after \(r.connectTimeout))")
    }
  }

  /// Applies the host key policy; returns warnings, or throws with OpenSSH's facts and a fix.
  private static func verifyHostKey(
    known: KnownHosts?, options r: ResolvedSSHOptions, blob: [UInt8], type: HostKeyType?, typeName: String,
    fingerprint: String
  ) throws(SSHError) -> [String] {
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
}

extension SSHError {
  /// A jump host's failure as the target's: same kind, the target's name, the jump host named.
  func reached(through r: ResolvedSSHOptions) -> SSHError {
    var e = self
    if !host.isEmpty && host != r.name && !message.contains("jump host") {
      e.message = "jump host \(host): \(message)"
    }
    e.host = r.name
    return e
  }
}
