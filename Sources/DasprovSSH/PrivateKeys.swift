import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What dasprov needs to know about a private key file before offering it: whether it needs a
/// passphrase, and its type (for a useful message when an RSA key is refused).
struct PrivateKeyFile {
  var encrypted = false
  /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ... when the file says.
  var keyType: String?

  /// Reads the unencrypted header: the OpenSSH format names its cipher (`none` when plain) and
  /// carries the public key; PEM says `Proc-Type: 4,ENCRYPTED` or `BEGIN ENCRYPTED PRIVATE KEY`.
  init(path: String) {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
    if text.contains("Proc-Type: 4,ENCRYPTED") || text.contains("BEGIN ENCRYPTED PRIVATE KEY") { encrypted = true }
    if text.contains("BEGIN RSA PRIVATE KEY") { keyType = "ssh-rsa" }
    if text.contains("BEGIN EC PRIVATE KEY") { keyType = "ecdsa" }
    guard let key = SSHWireReader.openSSHPrivateKey(in: text) else { return }
    var reader = SSHWireReader(bytes: key)
    let magic = Array("openssh-key-v1".utf8) + [0]
    guard reader.take(magic.count) == magic, let cipher = reader.string() else { return }
    encrypted = String(decoding: cipher, as: UTF8.self) != "none"
    // kdfname, kdfoptions, number of keys, then the first public key blob, which starts with
    // its type name.
    guard reader.string() != nil, reader.string() != nil, reader.take(4) != nil, let blob = reader.string() else { return }
    var inner = SSHWireReader(bytes: blob)
    if let type = inner.string() { keyType = String(decoding: type, as: UTF8.self) }
  }

  static func isEncrypted(path: String) -> Bool { PrivateKeyFile(path: path).encrypted }
}

/// Reads SSH wire-format fields (RFC 4251 §5).
public struct SSHWireReader {
  let bytes: [UInt8]
  var offset = 0

  public init(bytes: [UInt8]) { self.bytes = bytes }

  /// The next `n` bytes, or nil when fewer are left.
  public mutating func take(_ n: Int) -> [UInt8]? {
    guard n >= 0, offset + n <= bytes.count else { return nil }
    defer { offset += n }
    return Array(bytes[offset..<(offset + n)])
  }

  /// A 32-bit big-endian integer.
  public mutating func uint32() -> UInt32? { take(4).map { $0.reduce(0) { $0 << 8 | UInt32($1) } } }

  /// A string: a 32-bit length, then that many bytes.
  public mutating func string() -> [UInt8]? { uint32().flatMap { take(Int($0)) } }

  /// The binary body of an `-----BEGIN OPENSSH PRIVATE KEY-----` block in `text`, if it has one.
  public static func openSSHPrivateKey(in text: String) -> [UInt8]? {
    let begin = "-----BEGIN OPENSSH PRIVATE KEY-----", end = "-----END OPENSSH PRIVATE KEY-----"
    guard let b = text.range(of: begin), let e = text.range(of: end), b.upperBound <= e.lowerBound,
      let data = Data(base64Encoded: String(text[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }))
    else { return nil }
    return [UInt8](data)
  }
}

/// Asks for a key's passphrase on the terminal, once per key file per run, and only when stdin
/// is a terminal: an unattended run must fail with a message, never hang on a prompt.
enum PassphrasePrompt {
  /// Passphrases typed so far, by key path. Held while prompting: one prompt at a time.
  private static let cache = Mutex<[String: String]>([:])

  /// The passphrase for `keyPath`, or `nil` when there is no terminal or the user typed nothing.
  static func passphrase(for keyPath: String) -> String? {
    guard isatty(0) == 1 else { return nil }
    // One prompt at a time: many hosts may reach the same key at once.
    return cache.withLock { cache in
      if let cached = cache[keyPath] { return cached }
      guard let answer = readHidden(prompt: "Enter passphrase for key '\(keyPath)': "), !answer.isEmpty else { return nil }
      cache[keyPath] = answer
      return answer
    }
  }

  /// Reads a line from `/dev/tty` with echo off.
  private static func readHidden(prompt: String) -> String? {
    let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { sysClose(fd) }
    var saved = termios()
    let haveTermios = tcgetattr(fd, &saved) == 0
    if haveTermios {
      var quiet = saved
      quiet.c_lflag &= ~tcflag_t(ECHO)
      _ = tcsetattr(fd, TCSAFLUSH, &quiet)
    }
    defer { if haveTermios { _ = tcsetattr(fd, TCSAFLUSH, &saved) } }
    _ = Array(prompt.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
    _ = write(fd, "\n", 1)
    return String(decoding: line, as: UTF8.self)
  }
}
