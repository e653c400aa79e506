/// What a command printed and how it ended: a remote program run over SSH, or a local vault
/// password script.
public struct CommandOutput: Sendable {
  public var status: Int32
  public var stdout: [UInt8]
  public var stderr: [UInt8]

  public init(status: Int32, stdout: [UInt8], stderr: [UInt8]) {
    self.status = status
    self.stdout = stdout
    self.stderr = stderr
  }

  /// The last lines of stderr, for error messages.
  public var stderrTail: String {
    let lines = String(decoding: stderr, as: UTF8.self).split(separator: "\n")
    return lines.suffix(5).joined(separator: "\n")
  }
}
