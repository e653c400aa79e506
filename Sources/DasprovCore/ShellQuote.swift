/// POSIX shell quoting, in exactly one place.
///
/// Every path and value that reaches a remote shell goes through `shellQuoted`; no other code
/// concatenates untrusted text into a command line.
extension String {
  /// This string as one POSIX shell word: wrapped in single quotes, with each `'` written `'\''`.
  /// Plain words made only of safe characters are left bare, so logs stay readable.
  public var shellQuoted: String {
    if !isEmpty, utf8.allSatisfy({ $0 < 0x80 && Self.safeShellBytes[Int($0)] }) {
      return self
    }
    var out = "'"
    out.reserveCapacity(utf8.count + 2)
    for part in split(separator: "'", omittingEmptySubsequences: false).enumerated() {
      if part.offset > 0 { out += "'\\''" }
      out += part.element
    }
    return out + "'"
  }

  /// This string as one single-quoted POSIX shell word even when it needs no quotes: for values
  /// written into shell files (the DSL's `shell_quote`), where one form whatever the value is
  /// easier to read, and a line written once stays the line the next run writes.
  public var shellSingleQuoted: String {
    "'" + replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// Which ASCII bytes may stand unquoted, as a table: quoting runs for every word of every
  /// program sent to every host.
  private static let safeShellBytes: [Bool] = {
    var table = [Bool](repeating: false, count: 128)
    for b in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_".utf8 { table[Int(b)] = true }
    return table
  }()
}

/// A command to run on a host: an argument vector, quoted for the remote shell when sent.
public struct RemoteCommand: Sendable, Hashable, CustomStringConvertible {
  public var argv: [String]

  public init(_ argv: [String]) { self.argv = argv }
  public init(_ argv: String...) { self.argv = argv }

  /// The command line the remote shell receives.
  public var shellLine: String { argv.map(\.shellQuoted).joined(separator: " ") }
  public var description: String { shellLine }
}
