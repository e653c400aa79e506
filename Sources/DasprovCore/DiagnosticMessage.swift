/// A diagnostic's message that knows which of its spans are names — of groups, hosts, variables
/// — so the secret mask leaves them alone: with the secret `quagga`, a warning about the group
/// `quagga-routers` must still name `quagga-routers`.
///
///     .warning("variable \(name: key) of group \(name: group) is set again", at: range)
///
/// Everything not written with `name:` is masked as usual, so a forgotten marking masks too
/// much, never too little.
public struct DiagnosticMessage: ExpressibleByStringInterpolation, Sendable, Hashable {
  public var text: String
  /// UTF-8 offsets of the names in `text`.
  public var names: [Range<Int>]

  public init(stringLiteral value: String) {
    text = value
    names = []
  }

  public init(stringInterpolation: StringInterpolation) {
    text = stringInterpolation.text
    names = stringInterpolation.names
  }

  public struct StringInterpolation: StringInterpolationProtocol {
    var text = ""
    var names: [Range<Int>] = []

    public init(literalCapacity: Int, interpolationCount: Int) {
      text.reserveCapacity(literalCapacity)
    }

    public mutating func appendLiteral(_ literal: String) { text += literal }

    public mutating func appendInterpolation<T>(_ value: T) {
      text += String(describing: value)
    }

    /// A name, quoted as dasprov quotes names: `'web'`.
    public mutating func appendInterpolation(name: String) {
      text += "'"
      appendInterpolation(bareName: name)
      text += "'"
    }

    /// Another message, its names kept: for messages built from parts.
    public mutating func appendInterpolation(_ message: DiagnosticMessage) {
      let offset = text.utf8.count
      text += message.text
      names += message.names.map { ($0.lowerBound + offset)..<($0.upperBound + offset) }
    }

    /// A name without quotes, as in `[web:children]`.
    public mutating func appendInterpolation(bareName name: String) {
      let start = text.utf8.count
      text += name
      names.append(start..<text.utf8.count)
    }
  }
}

extension Diagnostic {
  public init(_ severity: Severity, _ message: DiagnosticMessage, at range: SourceRange? = nil, notes: [Diagnostic] = []) {
    self.init(severity, message.text, at: range, notes: notes)
    nameSpans = message.names
  }

  public static func error(_ message: DiagnosticMessage, at range: SourceRange? = nil, notes: [Diagnostic] = []) -> Diagnostic {
    Diagnostic(.error, message, at: range, notes: notes)
  }

  public static func warning(_ message: DiagnosticMessage, at range: SourceRange? = nil, notes: [Diagnostic] = []) -> Diagnostic {
    Diagnostic(.warning, message, at: range, notes: notes)
  }

  /// The names of the message as ranges of `message`; offsets past its end are dropped.
  var nameRanges: [Range<String.Index>] {
    let utf8 = message.utf8
    return nameSpans.compactMap { span in
      guard span.upperBound <= utf8.count else { return nil }
      let start = utf8.index(utf8.startIndex, offsetBy: span.lowerBound)
      return start..<utf8.index(start, offsetBy: span.count)
    }
  }
}

extension DiagnosticSink {
  public mutating func error(_ message: DiagnosticMessage, at range: SourceRange?, notes: [Diagnostic] = []) {
    add(.error(message, at: range, notes: notes))
  }

  public mutating func warning(_ message: DiagnosticMessage, at range: SourceRange?) {
    add(.warning(message, at: range))
  }
}
