import DasprovCore

/// What a token is. Keywords are identifiers; the parser decides which words are keywords where,
/// so a variable may be called `from` outside the statements that use `from` as a modifier.
public enum TokenKind: Sendable, Hashable, CustomStringConvertible {
  case identifier(String)
  case integer(Int)
  /// A double-quoted string: literal text and `{{ expr }}` interpolations.
  case string([StringSegment])
  /// A single-quoted string: raw text, no escapes, no interpolation (for regexes).
  case rawString(String)
  case symbol(String)
  case newline
  case end

  public var description: String {
    switch self {
    case .identifier(let name): return "'\(name)'"
    case .integer(let i): return "number \(i)"
    case .string, .rawString: return "string"
    case .symbol(let s): return "'\(s)'"
    case .newline: return "end of line"
    case .end: return "end of file"
    }
  }
}

/// A piece of a double-quoted string.
public enum StringSegment: Sendable, Hashable {
  case text(String)
  /// The source of an interpolated expression and where it starts, parsed later by `Parser`.
  case interpolation(source: String, range: SourceRange)
}

/// A token with the exact source range it came from.
public struct Token: Sendable, Hashable {
  public var kind: TokenKind
  public var range: SourceRange

  public init(_ kind: TokenKind, _ range: SourceRange) {
    self.kind = kind
    self.range = range
  }

  public var identifier: String? { if case .identifier(let s) = kind { return s } else { return nil } }

  public func isSymbol(_ s: String) -> Bool { if case .symbol(s) = kind { return true } else { return false } }
  public func isIdentifier(_ s: String) -> Bool { identifier == s }
}
