/// The line protocol of dasprov's remote programs: a line `@tag rest` is an event; every other
/// line is ignored (commands' own output goes to stderr).
public struct ProgramLine: Sendable, Hashable {
  public var tag: Substring
  public var rest: Substring

  /// The event lines of `output`, in order.
  public static func lines(_ output: [UInt8]) -> [ProgramLine] {
    String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap(ProgramLine.init)
  }

  public init?(_ line: Substring) {
    guard line.first == "@" else { return nil }
    let body = line.dropFirst()
    if let space = body.firstIndex(of: " ") {
      tag = body[..<space]
      rest = body[body.index(after: space)...]
    } else {
      tag = body
      rest = ""
    }
  }
}

/// A remote program's events, decoded from its output lines.
public protocol ProgramEvent: Sendable {
  /// The event of one line; nil for a tag the program does not send.
  init?(_ line: ProgramLine)
}

extension ProgramEvent {
  /// Every event in `output`, in order.
  public static func events(in output: [UInt8]) -> [Self] {
    ProgramLine.lines(output).compactMap(Self.init)
  }
}
