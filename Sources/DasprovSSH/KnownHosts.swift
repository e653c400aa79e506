import CLibSSH2
import DasprovCore
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The host key types libssh2 1.10 can negotiate, with the names OpenSSH uses for them.
struct HostKeyType: Equatable, Sendable {
  /// `LIBSSH2_HOSTKEY_TYPE_*`.
  let libssh2Type: Int32
  /// `LIBSSH2_KNOWNHOST_KEY_*`.
  let knownHostBits: Int32
  /// As in OpenSSH messages: "No ED25519 host key is known for ...".
  let displayName: String
  /// `ssh-keyscan -t` argument.
  let keyscanName: String
  /// Algorithm names for `libssh2_session_method_pref(LIBSSH2_METHOD_HOSTKEY, ...)`.
  let algorithms: [String]

  /// In OpenSSH 9's preference order.
  static let all: [HostKeyType] = [
    HostKeyType(libssh2Type: LIBSSH2_HOSTKEY_TYPE_ED25519, knownHostBits: LIBSSH2_KNOWNHOST_KEY_ED25519, displayName: "ED25519", keyscanName: "ed25519", algorithms: ["ssh-ed25519"]),
    HostKeyType(libssh2Type: LIBSSH2_HOSTKEY_TYPE_ECDSA_256, knownHostBits: LIBSSH2_KNOWNHOST_KEY_ECDSA_256, displayName: "ECDSA", keyscanName: "ecdsa", algorithms: ["ecdsa-sha2-nistp256"]),
    HostKeyType(libssh2Type: LIBSSH2_HOSTKEY_TYPE_ECDSA_384, knownHostBits: LIBSSH2_KNOWNHOST_KEY_ECDSA_384, displayName: "ECDSA", keyscanName: "ecdsa", algorithms: ["ecdsa-sha2-nistp384"]),
    HostKeyType(libssh2Type: LIBSSH2_HOSTKEY_TYPE_ECDSA_521, knownHostBits: LIBSSH2_KNOWNHOST_KEY_ECDSA_521, displayName: "ECDSA", keyscanName: "ecdsa", algorithms: ["ecdsa-sha2-nistp521"]),
    HostKeyType(libssh2Type: LIBSSH2_HOSTKEY_TYPE_RSA, knownHostBits: LIBSSH2_KNOWNHOST_KEY_SSHRSA, displayName: "RSA", keyscanName: "rsa", algorithms: ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]),
  ]

  static func forLibssh2Type(_ t: Int32) -> HostKeyType? { all.first { $0.libssh2Type == t } }
}

/// OpenSSH's fingerprint format: `SHA256:` + unpadded base64 of the key blob's SHA-256.
func openSSHFingerprint(_ blob: [UInt8]) -> String {
  var hasher = SHA256()
  hasher.update(blob)
  let b64 = Data(hasher.finalize()).base64EncodedString()
  return "SHA256:" + b64.replacingOccurrences(of: "=", with: "")
}

/// Direct bindings to `libssh2_knownhost_*`: one known-hosts file, read leniently.
///
/// `libssh2_knownhost_readfile` stops at the first line it cannot parse (an `@cert-authority`
/// marker, an `sk-` key type), silently dropping every later entry; so lines are fed one by one
/// through `libssh2_knownhost_readline` and unparseable ones are skipped. New keys are appended
/// as one line under `flock`, never by rewriting the file (`libssh2_knownhost_writefile` would
/// drop comments and the skipped lines).
final class KnownHosts {
  enum Check: Equatable {
    case match
    /// The file holds another key of this type for the host, at this line (1-based) if known.
    case mismatch(line: Int?)
    case notFound
  }

  let session: Session
  let handle: OpaquePointer
  let path: String
  private var lineOfNode: [UnsafeMutableRawPointer: Int] = [:]

  /// A missing file reads as empty; an unreadable one throws `.knownHostsFile`. With `name`, only
  /// the lines that can be about it are parsed (those naming it, hashed ones, patterns): a
  /// known_hosts file of the whole inventory is otherwise parsed once per host, each time whole.
  init(session: Session, path: String, for name: String? = nil) throws(SSHError) {
    self.session = session
    self.path = path
    guard let handle = libssh2_knownhost_init(session.handle) else {
      throw session.error(-6, "libssh2_knownhost_init failed", kind: .internalError)
    }
    self.handle = handle
    guard FileManager.default.fileExists(atPath: path) else { return }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw SSHError(.knownHostsFile, host: session.label, "cannot read known-hosts file \(path)")
    }
    var previous: UnsafeMutablePointer<libssh2_knownhost>?
    var lineNumber = 0
    let wanted = name.map { Array($0.utf8) }
    for line in [UInt8](data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      lineNumber += 1
      var bytes = Array(line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...])
      guard !bytes.isEmpty else { continue }
      if let wanted, !Self.mayConcern(bytes, wanted) { continue }
      // With its newline and a NUL after it: libssh2 1.10 looks at the byte after the key for
      // a newline to drop, so without one it read past the buffer and, when that byte happened
      // to be a newline, cut the key's last character ("host key changed" for a right key).
      bytes += [UInt8(ascii: "\n"), 0]
      let rc = bytes.withUnsafeBufferPointer { buf in
        buf.withMemoryRebound(to: CChar.self) {
          libssh2_knownhost_readline(handle, $0.baseAddress, $0.count - 1, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
        }
      }
      guard rc == 0 else { continue }
      // One line may add several nodes ("host1,host2 key"); remember which line each came from.
      var store: UnsafeMutablePointer<libssh2_knownhost>?
      while libssh2_knownhost_get(handle, &store, previous) == 0, let node = store {
        if let n = node.pointee.node { lineOfNode[n] = lineNumber }
        previous = node
      }
    }
  }

  deinit { libssh2_knownhost_free(handle) }

  /// Whether a known_hosts line can be about `name`: it contains the name, or its host field is
  /// hashed (`|1|…`) or holds a pattern (`*`, `?`, `!`), or it is a marker line (`@…`).
  static func mayConcern(_ line: [UInt8], _ name: [UInt8]) -> Bool {
    let field = line.prefix { $0 != 32 && $0 != 9 }
    if field.first == UInt8(ascii: "|") || field.first == UInt8(ascii: "@") { return true }
    if field.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "!") }) { return true }
    guard !name.isEmpty, field.count >= name.count else { return false }
    // Case-insensitively, as host names are compared.
    let lower = field.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    return lower.indices.contains { start in
      start + name.count <= lower.count && lower[start..<(start + name.count)].elementsEqual(name)
    }
  }

  /// The key types the file already holds for `name`, so the handshake can prefer them the way
  /// OpenSSH orders its host key algorithms. Found by checking a dummy key of each type: a
  /// mismatch means "known with another key".
  func knownTypes(for name: String) -> [HostKeyType] {
    HostKeyType.all.filter {
      if case .mismatch = check(name: name, key: [0], type: $0) { return true }
      return false
    }
  }

  /// The corresponding C function is `libssh2_knownhost_checkp`. `name` is already in
  /// known_hosts form (`host` or `[host]:port`), so the port argument is -1: libssh2 would
  /// otherwise also accept plain-`host` entries for any port.
  func check(name: String, key: [UInt8], type: HostKeyType) -> Check {
    var ext: UnsafeMutablePointer<libssh2_knownhost>?
    let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | type.knownHostBits
    let rc = key.withUnsafeBufferPointer { buf in
      buf.withMemoryRebound(to: CChar.self) {
        libssh2_knownhost_checkp(handle, name, -1, $0.baseAddress, $0.count, mask, &ext)
      }
    }
    switch rc {
    case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
    case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: return .mismatch(line: ext?.pointee.node.flatMap { lineOfNode[$0] })
    default: return .notFound
    }
  }

  /// Adds `name key` to the file as one appended line (plain host name, like `ssh-keyscan`).
  /// The corresponding C functions are `libssh2_knownhost_addc` and `libssh2_knownhost_writeline`.
  func append(name: String, key: [UInt8], type: HostKeyType) throws(SSHError) {
    var store: UnsafeMutablePointer<libssh2_knownhost>?
    let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | type.knownHostBits
    let rc = key.withUnsafeBufferPointer { buf in
      buf.withMemoryRebound(to: CChar.self) {
        libssh2_knownhost_addc(handle, name, nil, $0.baseAddress, $0.count, nil, 0, mask, &store)
      }
    }
    guard rc == 0, let store else { throw session.error(rc, "cannot add the host key for \(name)", kind: .knownHostsFile) }
    var buffer = [CChar](repeating: 0, count: 16384)
    var length = 0
    let wrc = libssh2_knownhost_writeline(handle, store, &buffer, buffer.count, &length, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
    guard wrc == 0 else { throw session.error(wrc, "cannot format the known-hosts line for \(name)", kind: .knownHostsFile) }
    var line = buffer.prefix(length).map { UInt8(bitPattern: $0) }
    if line.last != UInt8(ascii: "\n") { line.append(UInt8(ascii: "\n")) }
    try Self.appendLine(line, to: path, label: session.label)
  }

  /// Appends under an exclusive `flock`, so hosts accepting keys in parallel do not interleave,
  /// and adds a newline first if the file does not end with one.
  static func appendLine(_ line: [UInt8], to path: String, label: String) throws(SSHError) {
    let dir = (path as NSString).deletingLastPathComponent
    if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
      try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw SSHError(.knownHostsFile, host: label, "cannot write \(path): \(String(cString: strerror(errno)))")
    }
    defer { sysClose(fd) }
    _ = flock(fd, LOCK_EX)
    defer { _ = flock(fd, LOCK_UN) }
    var bytes = line
    var st = stat()
    if fstat(fd, &st) == 0, st.st_size > 0 {
      var last: UInt8 = 0
      let readFD = open(path, O_RDONLY | O_CLOEXEC)
      if readFD >= 0 {
        if pread(readFD, &last, 1, off_t(st.st_size - 1)) == 1, last != UInt8(ascii: "\n") { bytes.insert(UInt8(ascii: "\n"), at: 0) }
        sysClose(readFD)
      }
    }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else {
      throw SSHError(.knownHostsFile, host: label, "cannot write \(path): \(String(cString: strerror(errno)))")
    }
  }
}
