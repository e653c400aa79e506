import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What dasprov needs to know about a private key file before offering it: whether it exists
/// and whether it needs a passphrase.
enum PrivateKeyFile {
  /// Whether the key is encrypted: the OpenSSH format names a cipher other than `none`; PEM
  /// says `Proc-Type: 4,ENCRYPTED` or `BEGIN ENCRYPTED PRIVATE KEY`.
  static func isEncrypted(path: String) -> Bool {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
    if text.contains("Proc-Type: 4,ENCRYPTED") || text.contains("BEGIN ENCRYPTED PRIVATE KEY") { return true }
    let begin = "-----BEGIN OPENSSH PRIVATE KEY-----", end = "-----END OPENSSH PRIVATE KEY-----"
    guard let b = text.range(of: begin), let e = text.range(of: end), b.upperBound <= e.lowerBound else { return false }
    let body = text[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }
    guard let data = Data(base64Encoded: String(body)) else { return false }
    let bytes = [UInt8](data)
    let magic = Array("openssh-key-v1".utf8) + [0]
    guard bytes.count > magic.count + 4, Array(bytes.prefix(magic.count)) == magic else { return false }
    let o = magic.count
    let len = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
    guard len > 0, o + 4 + len <= bytes.count else { return false }
    return String(decoding: bytes[(o + 4)..<(o + 4 + len)], as: UTF8.self) != "none"
  }
}

/// Asks for a key's passphrase on the terminal, once per key file per run, and only when stdin
/// is a terminal: an unattended run must fail with a message, never hang on a prompt.
enum PassphrasePrompt {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var cache: [String: String] = [:]

  /// The passphrase for `keyPath`, or `nil` when there is no terminal or the user typed nothing.
  static func passphrase(for keyPath: String) -> String? {
    guard isatty(0) == 1 else { return nil }
    // One prompt at a time: many hosts may reach the same key at once.
    return lock.withLock {
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
