import DasprovCore

/// A recursive-descent parser for `.dasp` files.
///
/// It recovers at line and block boundaries, so one run reports every syntax error in a file.
/// It knows the shape of statements, not their meaning: which task kinds and keywords exist is
/// checked by the validator, which can then suggest the right spelling.
public struct Parser {
  var tokens: [Token]
  var position = 0
  let file: String
  public internal(set) var diagnostics: [Diagnostic] = []

  /// Words the expression grammar owns; they cannot name variables.
  public static let reservedWords: Set<String> = [
    "and", "or", "not", "in", "if", "then", "else", "true", "false", "none",
  ]

  /// Words that introduce a modifier inside a statement (`fragment X from "t" after Y`).
  public static let modifierWords: Set<String> = [
    "from", "after", "before", "into", "match", "to", "on", "contains", "timeout", "keep", "by",
    "with", "as", "mode", "owner", "group", "unless", "creates", "charset",
  ]

  public init(tokens: [Token], file: String) {
    self.tokens = tokens
    self.file = file
  }

  /// Lexes and parses a whole file.
  /// `sources` receives the text so diagnostics can quote it (tests pass their own registry).
  public static func parse(text: String, file: String, sources: SourceFiles = SourceFiles()) -> (SourceFile, [Diagnostic]) {
    sources.register(file: file, text: text)
    var lexer = Lexer(text: text, file: file)
    let tokens = lexer.tokenize()
    var parser = Parser(tokens: tokens, file: file)
    let source = parser.parseFile()
    return (source, lexer.diagnostics + parser.diagnostics)
  }

  /// Parses one expression, e.g. a `--extra` value or an interpolation.
  public static func parseExpression(text: String, file: String, line: Int = 1, column: Int = 1)
    -> (Expr?, [Diagnostic])
  {
    var lexer = Lexer(text: text, file: file, line: line, column: column)
    let tokens = lexer.tokenize()
    var parser = Parser(tokens: tokens, file: file)
    let expr = parser.parseStandaloneExpression()
    return (expr, lexer.diagnostics + parser.diagnostics)
  }

  // MARK: - Token access

  var current: Token { tokens[min(position, tokens.count - 1)] }
  func peekToken(_ offset: Int = 1) -> Token { tokens[min(position + offset, tokens.count - 1)] }

  @discardableResult
  mutating func advance() -> Token {
    let t = current
    if position < tokens.count - 1 { position += 1 }
    return t
  }

  var atEnd: Bool { if case .end = current.kind { return true } else { return false } }
  var atNewline: Bool { if case .newline = current.kind { return true } else { return false } }

  mutating func skipNewlines() { while atNewline { advance() } }

  /// Thrown inside the parser to unwind to the nearest recovery point.
  struct Recover: Error {}

  mutating func fail(_ message: String, at range: SourceRange? = nil) -> Recover {
    diagnostics.append(.error(message, at: range ?? current.range))
    return Recover()
  }

  mutating func expectSymbol(_ s: String, _ context: String) throws(Recover) -> Token {
    guard current.isSymbol(s) else { throw fail("expected '\(s)' \(context), found \(current.kind)") }
    return advance()
  }

  mutating func expectIdentifier(_ what: String) throws(Recover) -> Identifier {
    guard let name = current.identifier else { throw fail("expected \(what), found \(current.kind)") }
    let t = advance()
    return Identifier(name, t.range)
  }

  mutating func expectEndOfStatement(_ context: String) throws(Recover) {
    if atNewline || atEnd || current.isSymbol("}") {
      if atNewline { advance() }
      return
    }
    throw fail("expected end of line after \(context), found \(current.kind)")
  }

  /// Skips to the start of the next line (or past the end of the current block).
  mutating func recoverToLineEnd() {
    var depth = 0
    while !atEnd {
      if current.isSymbol("{") { depth += 1 }
      if current.isSymbol("}") {
        if depth == 0 { return }
        depth -= 1
        if depth == 0 {
          advance()
          return
        }
      }
      if atNewline && depth == 0 {
        advance()
        return
      }
      advance()
    }
  }
}
