import CLibSSH2
import Foundation

/// Answers every keyboard-interactive prompt with the password (servers that offer only
/// `keyboard-interactive` ask "Password:" this way). libssh2 frees the responses with its
/// default allocator, so they are `strdup`ed.
private let keyboardInteractiveCallback:
  @convention(c) (
    UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, Int32, Int32,
    UnsafePointer<LIBSSH2_USERAUTH_KBDINT_PROMPT>?, UnsafeMutablePointer<LIBSSH2_USERAUTH_KBDINT_RESPONSE>?,
    UnsafeMutablePointer<UnsafeMutableRawPointer?>?
  ) -> Void = { _, _, _, _, count, _, responses, abstract in
    guard let responses, count > 0, let raw = abstract?.pointee else { return }
    let context = Unmanaged<SessionContext>.fromOpaque(raw).takeUnretainedValue()
    guard let password = context.interactivePassword else { return }
    for i in 0..<Int(count) {
      responses[i].text = strdup(password)
      responses[i].length = UInt32(password.utf8.count)
    }
  }

/// Authentication in OpenSSH's order: ssh-agent, private key files, then password (or
/// keyboard-interactive answered with the password). Records every attempt so a failure can say
/// what was tried and what the server offered.
struct Authenticator {
  let session: Session
  let options: ResolvedSSHOptions
  let deadline: Deadline
  private(set) var tried: [String] = []

  init(session: Session, options: ResolvedSSHOptions, deadline: Deadline) {
    self.session = session
    self.options = options
    self.deadline = deadline
  }

  /// Logs in, returning how (e.g. `publickey /home/me/.ssh/id_ed25519`), or throws
  /// `.authenticationFailed(tried:offered:)`.
  mutating func authenticate() throws(SSHError) -> String {
    let user = options.user
    let handle = session.handle
    // The corresponding C function is `libssh2_userauth_list`; NULL with no error means the
    // server accepted "none".
    let list = try session.retryPointer(deadline) {
      libssh2_userauth_list(handle, user, UInt32(user.utf8.count))
    }
    if list == nil {
      if libssh2_userauth_authenticated(handle) != 0 { return "none" }
      throw session.error(-18, "cannot ask \(options.name) for its authentication methods")
    }
    let offered = list!.split(separator: ",").map(String.init)

    if offered.contains("publickey") {
      if let socket = options.agentSocket, let how = try agent(socket: socket) { return how }
      for key in options.keyFiles {
        if let how = try keyFile(key) { return how }
      }
    }
    if let password = options.password {
      if offered.contains("password") {
        let rc = try session.retry(deadline) {
          libssh2_userauth_password_ex(
            handle, user, UInt32(user.utf8.count), password, UInt32(password.utf8.count), nil)
        }
        if rc == 0 { return "password" }
        tried.append("password")
      } else if offered.contains("keyboard-interactive") {
        session.context.interactivePassword = password
        defer { session.context.interactivePassword = nil }
        let rc = try session.retry(deadline) {
          libssh2_userauth_keyboard_interactive_ex(handle, user, UInt32(user.utf8.count), keyboardInteractiveCallback)
        }
        if rc == 0 { return "keyboard-interactive" }
        tried.append("keyboard-interactive (password)")
      } else {
        tried.append("password (the server does not offer it)")
      }
    }
    if tried.isEmpty { tried.append("nothing: no agent, no key file, no password (DASPROV_SSH_PASSWORD)") }
    throw SSHError(
      .authenticationFailed(tried: tried, offered: offered), host: options.name,
      "authentication failed for \(user)@\(options.address): tried \(tried.joined(separator: ", ")); "
        + "the server offers \(offered.joined(separator: ","))")
  }

  /// Tries each identity the agent holds. The corresponding C functions are
  /// `libssh2_agent_*`; the socket comes from `SSH_AUTH_SOCK` in the options' environment.
  private mutating func agent(socket: String) throws(SSHError) -> String? {
    guard let agent = libssh2_agent_init(session.handle) else {
      tried.append("agent (libssh2_agent_init failed)")
      return nil
    }
    defer { libssh2_agent_free(agent) }
    libssh2_agent_set_identity_path(agent, socket)
    guard libssh2_agent_connect(agent) == 0 else {
      tried.append("agent (cannot connect to \(socket))")
      return nil
    }
    defer { _ = libssh2_agent_disconnect(agent) }
    guard libssh2_agent_list_identities(agent) == 0 else {
      tried.append("agent (cannot list identities)")
      return nil
    }
    var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
    var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
    var count = 0
    while libssh2_agent_get_identity(agent, &identity, previous) == 0, let id = identity {
      count += 1
      let rc = try session.retry(deadline) { libssh2_agent_userauth(agent, options.user, id) }
      if rc == 0 {
        let comment = id.pointee.comment.map { String(cString: $0) } ?? ""
        return "agent" + (comment.isEmpty ? "" : " key \(comment)")
      }
      previous = id
    }
    tried.append("agent (\(count) key\(count == 1 ? "" : "s"))")
    return nil
  }

  /// Tries one private key file, asking for its passphrase only if it is encrypted.
  private mutating func keyFile(_ path: String) throws(SSHError) -> String? {
    if let signer = options.signers[path] {
      if try signed(with: signer) { return "publickey \(path)" }
      tried.append("publickey \(path)")
      return nil
    }
    guard FileManager.default.fileExists(atPath: path) else {
      if options.keyFilesExplicit { tried.append("publickey \(path) (no such file)") }
      return nil
    }
    let info = PrivateKeyFile(path: path)
    var passphrase: String?
    if info.encrypted {
      passphrase = options.passphrase ?? PassphrasePrompt.passphrase(for: path)
      if passphrase == nil {
        tried.append("publickey \(path) (encrypted; set DASPROV_SSH_PASSPHRASE)")
        return nil
      }
    }
    let user = options.user
    let rc = try session.retry(deadline) {
      libssh2_userauth_publickey_fromfile_ex(session.handle, user, UInt32(user.utf8.count), nil, path, passphrase)
    }
    if rc == 0 { return "publickey \(path)" }
    if rc == LIBSSH2_ERROR_FILE {
      let why = session.lastError().message
      tried.append("publickey \(path) (\(why.isEmpty ? "unreadable key" : why))")
    } else if info.keyType == "ssh-rsa" && libssh2_version(0x010b00) == nil {
      // libssh2 before 1.11 signs RSA user keys only with ssh-rsa (SHA-1), which OpenSSH 8.8
      // and later refuse by default.
      tried.append(
        "publickey \(path) (RSA: libssh2 \(LIBSSH2_VERSION) signs it with ssh-rsa/SHA-1, which the server "
          + "may refuse; use an ed25519 or ecdsa key, or allow `PubkeyAcceptedAlgorithms +ssh-rsa` on the server)")
    } else {
      tried.append("publickey \(path)")
    }
    return nil
  }
}

extension Authenticator {
  /// Public key authentication signed in-process. The corresponding C function is
  /// `libssh2_userauth_publickey`, whose callback reaches the signer through `abstract`.
  private func signed(with signer: any SSHSigner) throws(SSHError) -> Bool {
    let box = Unmanaged.passRetained(SignerBox(signer))
    defer { box.release() }
    var abstract: UnsafeMutableRawPointer? = box.toOpaque()
    let user = options.user
    let blob = signer.publicKeyBlob
    let rc = try session.retry(deadline) {
      blob.withUnsafeBufferPointer { key in
        libssh2_userauth_publickey(session.handle, user, key.baseAddress, key.count, signCallback, &abstract)
      }
    }
    return rc == 0
  }
}

private final class SignerBox {
  let signer: any SSHSigner
  init(_ signer: any SSHSigner) { self.signer = signer }
}

/// libssh2 frees the signature with its default allocator: it is `malloc`ed here.
private let signCallback:
  @convention(c) (
    OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, UnsafeMutablePointer<Int>?, UnsafePointer<UInt8>?, Int,
    UnsafeMutablePointer<UnsafeMutableRawPointer?>?
  ) -> Int32 = { _, sig, sigLength, data, dataLength, abstract in
    guard let sig, let sigLength, let data, let raw = abstract?.pointee else { return -1 }
    let signer = Unmanaged<SignerBox>.fromOpaque(raw).takeUnretainedValue().signer
    guard let signature = signer.sign(Array(UnsafeBufferPointer(start: data, count: dataLength))),
      let out = malloc(max(1, signature.count))?.assumingMemoryBound(to: UInt8.self)
    else { return -1 }
    signature.withUnsafeBufferPointer { out.initialize(from: $0.baseAddress!, count: $0.count) }
    sig.pointee = out
    sigLength.pointee = signature.count
    return 0
  }

extension Session {
  /// `retry` for calls that return a C string, or NULL with `EAGAIN` as the last error.
  func retryPointer(_ deadline: Deadline?, _ body: () -> UnsafeMutablePointer<CChar>?) throws(SSHError) -> String? {
    while true {
      if let p = body() { return String(cString: p) }
      if libssh2_session_last_errno(handle) != LIBSSH2_ERROR_EAGAIN { return nil }
      try wait(deadline)
    }
  }
}
