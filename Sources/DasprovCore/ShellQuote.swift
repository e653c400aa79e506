/// POSIX shell quoting, in exactly one place.
///
/// Every path and value that reaches a remote shell goes through `shellQuoted`; no other code
/// concatenates untrusted text into a command line.
extension String {
  /// This string as one POSIX shell word: wrapped in single quotes, with each `'` written `'\''`.
  /// Plain words made only of safe characters are left bare, so logs stay readable.
  public var shellQuoted: String {
    if !isEmpty, allSatisfy({ $0.isASCII && (Self.safeShellCharacters.contains($0)) }) {
      return self
    }
    return shellSingleQuoted
  }

  /// This string as one single-quoted POSIX shell word even when it needs no quotes: for values
  /// written into shell files (the DSL's `shell_quote`), where one form whatever the value is
  /// easier to read, and a line written once stays the line the next run writes.
  public var shellSingleQuoted: String {
    "'" + replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  private static let safeShellCharacters = Set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")
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
