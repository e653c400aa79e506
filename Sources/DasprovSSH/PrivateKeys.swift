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
    let begin = "-----BEGIN OPENSSH PRIVATE KEY-----", end = "-----END OPENSSH PRIVATE KEY-----"
    guard let b = text.range(of: begin), let e = text.range(of: end), b.upperBound <= e.lowerBound else { return }
    let body = text[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }
    guard let data = Data(base64Encoded: String(body)) else { return }
    var reader = SSHWireReader(bytes: [UInt8](data))
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
struct SSHWireReader {
  let bytes: [UInt8]
  var offset = 0

  mutating func take(_ n: Int) -> [UInt8]? {
    guard n >= 0, offset + n <= bytes.count else { return nil }
    defer { offset += n }
    return Array(bytes[offset..<(offset + n)])
  }

  mutating func string() -> [UInt8]? {
    guard let len = take(4) else { return nil }
    let n = Int(len[0]) << 24 | Int(len[1]) << 16 | Int(len[2]) << 8 | Int(len[3])
    return take(n)
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
