import DasprovCore

/// Turns `.dasp` text into tokens, tracking line and column as it goes.
///
/// Newlines are tokens: a statement ends at the end of its line, as in HCL, unless the line ends
/// inside brackets. Identifiers may contain `-` (`das-cluster`), so subtraction needs spaces.
public struct Lexer {
  private let file: String
  private let chars: [Character]
  private var index = 0
  private var line = 1
  private var column = 1
  private var bracketDepth = 0
  public private(set) var diagnostics: [Diagnostic] = []

  /// `lineOffset`/`columnOffset` place an embedded source (an interpolation) at its real position.
  public init(text: String, file: String, line: Int = 1, column: Int = 1) {
    self.file = file
    self.chars = Array(text)
    self.line = line
    self.column = column
  }

  public static let symbols: [String] = [
    "==", "!=", "<=", ">=", "??", "&&", "||",
    "{", "}", "[", "]", "(", ")", ",", ".", "=", "+", "-", "*", "/", "%", "<", ">", ":", "@", "!",
  ]

  public mutating func tokenize() -> [Token] {
    var tokens: [Token] = []
    while true {
      let token = next()
      // Collapse runs of newlines; they separate statements and carry no other meaning.
      if case .newline = token.kind, let last = tokens.last, case .newline = last.kind { continue }
      tokens.append(token)
      if case .end = token.kind { break }
    }
    return tokens
  }

  private var current: Character? { index < chars.count ? chars[index] : nil }
  private func peek(_ offset: Int = 1) -> Character? {
    index + offset < chars.count ? chars[index + offset] : nil
  }

  private mutating func advance() {
    guard let c = current else { return }
    index += 1
    if c == "\n" || c == "\r\n" {
      line += 1
      column = 1
    } else {
      column += 1
    }
  }

  private var location: SourceLocation { SourceLocation(file: file, line: line, column: column) }

  private mutating func next() -> Token {
    skipSpaceAndComments()
    let start = location
    guard let c = current else { return Token(.end, SourceRange(start: start)) }

    if c == "\n" || c == "\r\n" {
      advance()
      if bracketDepth > 0 { return next() }
      return Token(.newline, SourceRange(start: start))
    }
    if c.isLetter || c == "_" { return identifier(start) }
    if c.isNumber, c.isASCII { return number(start) }
    if c == "\"" { return string(start) }
    if c == "'" { return rawString(start) }
    for symbol in Self.symbols where matches(symbol) {
      for _ in symbol { advance() }
      switch symbol {
      case "[", "(": bracketDepth += 1
      case "]", ")": bracketDepth = max(0, bracketDepth - 1)
      default: break
      }
      return Token(.symbol(symbol), SourceRange(start: start, length: symbol.count))
    }
    advance()
    diagnostics.append(.error("unexpected character '\(c)'", at: SourceRange(start: start)))
    return next()
  }

  private func matches(_ symbol: String) -> Bool {
    for (i, ch) in symbol.enumerated() where peek(i) != ch { return false }
    return true
  }

  private mutating func skipSpaceAndComments() {
    while let c = current {
      if c == " " || c == "\t" || c == "\r" {
        advance()
      } else if c == "#" {
        while let c = current, c != "\n", c != "\r\n" { _ = c; advance() }
      } else if c == "\\", peek() == "\n" || peek() == "\r\n" {
        // A backslash at the end of a line continues the statement on the next line.
        advance()
        advance()
      } else {
        break
      }
    }
  }

  private mutating func identifier(_ start: SourceLocation) -> Token {
    var name = ""
    while let c = current {
      if c.isLetter || c.isNumber || c == "_" {
        name.append(c)
        advance()
      } else if c == "-", let n = peek(), n.isLetter || n.isNumber || n == "_" {
        name.append(c)
        advance()
      } else {
        break
      }
    }
    return Token(.identifier(name), SourceRange(start: start, length: name.count))
  }

  private mutating func number(_ start: SourceLocation) -> Token {
    var text = ""
    var consumed = 0
    while let c = current, c.isNumber || c == "_" {
      if c != "_" { text.append(c) }
      advance()
      consumed += 1
    }
    guard let value = Int(text) else {
      diagnostics.append(.error("number '\(text)' is too large", at: SourceRange(start: start, length: text.count)))
      return Token(.integer(0), SourceRange(start: start, length: text.count))
    }
    return Token(.integer(value), SourceRange(start: start, length: consumed))
  }

  private mutating func rawString(_ start: SourceLocation) -> Token {
    advance()
    var text = ""
    while let c = current, c != "'" {
      if c == "\n" || c == "\r\n" {
        diagnostics.append(.error("unterminated string: expected a closing '", at: SourceRange(start: start)))
        return Token(.rawString(text), SourceRange(start: start, length: text.count + 1))
      }
      text.append(c)
      advance()
    }
    if current == nil {
      diagnostics.append(.error("unterminated string: expected a closing '", at: SourceRange(start: start)))
    } else {
      advance()
    }
    return Token(.rawString(text), SourceRange(start: start, length: text.count + 2))
  }

  private mutating func string(_ start: SourceLocation) -> Token {
    advance()
    var segments: [StringSegment] = []
    var text = ""
    var length = 1
    func flush() {
      if !text.isEmpty { segments.append(.text(text)) }
      text = ""
    }
    while let c = current {
      if c == "\"" {
        advance()
        length += 1
        flush()
        return Token(.string(segments), SourceRange(start: start, length: length))
      }
      if c == "\n" || c == "\r\n" { break }
      if c == "\\" {
        let escapeStart = location
        advance()
        length += 2
        switch current {
        case "n": text.append("\n")
        case "t": text.append("\t")
        case "r": text.append("\r")
        case "\\": text.append("\\")
        case "\"": text.append("\"")
        case "{": text.append("{")
        case "$": text.append("$")
        default:
          diagnostics.append(
            .error(
              "unknown escape '\\\(current.map(String.init) ?? "")' (use \\\\ for a backslash, or a 'single-quoted' raw string)",
              at: SourceRange(start: escapeStart, length: 2)))
        }
        advance()
        continue
      }
      if c == "{", peek() == "{" {
        flush()
        advance()
        advance()
        length += 2
        let exprStart = location
        var source = ""
        var closed = false
        while let c = current, c != "\n", c != "\r\n" {
          if c == "}", peek() == "}" {
            advance()
            advance()
            length += 2
            closed = true
            break
          }
          source.append(c)
          advance()
          length += 1
        }
        if !closed {
          diagnostics.append(.error("unterminated '{{' in string: expected '}}'", at: SourceRange(start: exprStart)))
          return Token(.string(segments), SourceRange(start: start, length: length))
        }
        segments.append(.interpolation(source: source, range: SourceRange(start: exprStart, length: source.count)))
        continue
      }
      text.append(c)
      advance()
      length += 1
    }
    diagnostics.append(.error("unterminated string: expected a closing '\"'", at: SourceRange(start: start)))
    flush()
    return Token(.string(segments), SourceRange(start: start, length: length))
  }
}
