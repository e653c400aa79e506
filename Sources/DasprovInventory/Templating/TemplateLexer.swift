/// One lexical token inside `{{ }}` or `{% %}`.
enum TemplateToken: Equatable, Sendable {
  case name(String)
  case string(String)
  case int(Int)
  case float(Double)
  case op(String)
}

/// A template cut into its text and its tags, with Ansible's Jinja settings already applied:
/// newlines normalized to `\n` and one trailing newline dropped (`keep_trailing_newline` off),
/// the newline after a `%}` or `#}` dropped (`trim_blocks` on), `{{-`/`-}}` whitespace control.
enum TemplatePiece: Equatable, Sendable {
  case text(String)
  case output([TemplateToken])
  case statement([TemplateToken])
}

/// Jinja's lexer, for the default delimiters.
struct TemplateLexer {
  private let s: [Unicode.Scalar]
  private var i = 0

  /// Whether Ansible would render `text` at all: it has a tag opener.
  static func isPossiblyTemplate(_ text: String) -> Bool {
    guard text.utf8.contains(UInt8(ascii: "{")) else { return false }
    return text.contains("{{") || text.contains("{%") || text.contains("{#")
  }

  init(_ text: String) {
    var scalars: [Unicode.Scalar] = []
    scalars.reserveCapacity(text.unicodeScalars.count)
    var previousCR = false
    for c in text.unicodeScalars {
      if c == "\n" && previousCR { previousCR = false; continue }
      previousCR = c == "\r"
      scalars.append(c == "\r" ? "\n" : c)
    }
    if scalars.last == "\n" { scalars.removeLast() }
    s = scalars
  }

  mutating func pieces() throws(TemplateError) -> [TemplatePiece] {
    var out: [TemplatePiece] = []
    var text: [Unicode.Scalar] = []
    var stripNextText = false
    func flush() {
      if !text.isEmpty { out.append(.text(String(String.UnicodeScalarView(text)))) }
      text.removeAll()
    }
    while i < s.count {
      guard s[i] == "{", i + 1 < s.count, ["{", "%", "#"].contains(s[i + 1]) else {
        if stripNextText, isSpace(s[i]) { i += 1; continue }
        stripNextText = false
        text.append(s[i])
        i += 1
        continue
      }
      stripNextText = false
      let kind = s[i + 1]
      i += 2
      if i < s.count, s[i] == "-" {
        while let last = text.last, isSpace(last) { text.removeLast() }
        i += 1
      } else if i < s.count, s[i] == "+", kind == "%" {
        i += 1
      }
      flush()
      switch kind {
      case "#":
        let (strip, trim) = try skipComment()
        stripNextText = strip
        if trim, !strip, i < s.count, s[i] == "\n" { i += 1 }
      case "{":
        let (tokens, strip) = try tokens(until: "}")
        out.append(.output(tokens))
        stripNextText = strip
      default:
        let (tokens, strip) = try tokens(until: "%")
        out.append(.statement(tokens))
        stripNextText = strip
        if !strip, i < s.count, s[i] == "\n", !(i >= 3 && s[i - 3] == "+") { i += 1 }
      }
    }
    flush()
    return out
  }

  /// Past `#}`; whether it was `-#}`, and whether trim_blocks applies.
  private mutating func skipComment() throws(TemplateError) -> (Bool, Bool) {
    while i + 1 < s.count {
      if s[i] == "#", s[i + 1] == "}" {
        let strip = i > 0 && s[i - 1] == "-"
        i += 2
        return (strip, true)
      }
      i += 1
    }
    throw TemplateError(.syntax, "a comment {# is not closed with #}")
  }

  /// The tokens up to `}}` (closer `}`) or `%}` (closer `%`) at bracket depth 0, as Jinja's
  /// balancing stack does: `{{ {'a': {'b': 1}}}}` is one dict. Returns whether it ended `-}}`.
  private mutating func tokens(until closer: Unicode.Scalar) throws(TemplateError) -> ([TemplateToken], Bool) {
    var out: [TemplateToken] = []
    var depth = 0
    let end = closer == "}" ? "}}" : "%}"
    while true {
      while i < s.count, isSpace(s[i]) { i += 1 }
      guard i < s.count else { throw TemplateError(.syntax, "a tag is not closed with \(end)") }
      if depth == 0 {
        if s[i] == "-", i + 2 < s.count, s[i + 1] == closer, s[i + 2] == "}" { i += 3; return (out, true) }
        if s[i] == closer, i + 1 < s.count, s[i + 1] == "}" { i += 2; return (out, false) }
        if closer == "%", s[i] == "+", i + 2 < s.count, s[i + 1] == "%", s[i + 2] == "}" { i += 3; return (out, false) }
      }
      let c = s[i]
      if c == "'" || c == "\"" {
        out.append(.string(try string(quote: c)))
      } else if isDigit(c) {
        out.append(try number(afterDot: out.last == .op(".")))
      } else if c == "_" || c.properties.isXIDStart {
        let start = i
        while i < s.count, s[i] == "_" || s[i].properties.isXIDContinue { i += 1 }
        out.append(.name(String(String.UnicodeScalarView(s[start..<i]))))
      } else {
        let op = try `operator`()
        if ["(", "[", "{"].contains(op) { depth += 1 }
        if [")", "]", "}"].contains(op) {
          guard depth > 0 else { throw TemplateError(.syntax, "unexpected '\(op)'") }
          depth -= 1
        }
        out.append(.op(op))
      }
    }
  }

  private static let twoCharOperators: Set<String> = ["//", "**", "==", "!=", "<=", ">="]
  private static let oneCharOperators: Set<Unicode.Scalar> = [
    "+", "-", "*", "/", "%", "~", "<", ">", "=", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}",
  ]

  private mutating func `operator`() throws(TemplateError) -> String {
    if i + 1 < s.count {
      let two = String(String.UnicodeScalarView([s[i], s[i + 1]]))
      if Self.twoCharOperators.contains(two) { i += 2; return two }
    }
    guard Self.oneCharOperators.contains(s[i]) else {
      throw TemplateError(.syntax, "unexpected character '\(String(s[i]))'")
    }
    i += 1
    return String(s[i - 1])
  }

  /// A Jinja string literal: its escapes are Python's.
  private mutating func string(quote: Unicode.Scalar) throws(TemplateError) -> String {
    i += 1
    var body: [Unicode.Scalar] = []
    while i < s.count, s[i] != quote {
      if s[i] == "\\", i + 1 < s.count {
        body.append(s[i])
        i += 1
      }
      body.append(s[i])
      i += 1
    }
    guard i < s.count else { throw TemplateError(.syntax, "a string is not closed") }
    i += 1
    guard let decoded = PyEscapes.decode(body, bytes: false) else {
      throw TemplateError(.syntax, "a string has an invalid escape")
    }
    return String(String.UnicodeScalarView(decoded))
  }

  /// Integers (`1_000`, `0x1F`) and floats (`1.5`, `1e3`); right after a `.` only an integer, so
  /// `x.0.1` is two lookups as in Jinja.
  private mutating func number(afterDot: Bool) throws(TemplateError) -> TemplateToken {
    let start = i
    if s[i] == "0", i + 1 < s.count, let radix = ["x": 16, "X": 16, "o": 8, "O": 8, "b": 2, "B": 2][s[i + 1]] {
      i += 2
      let digitsStart = i
      while i < s.count, s[i] == "_" || Int(String(s[i]), radix: radix) != nil { i += 1 }
      let digits = String(String.UnicodeScalarView(s[digitsStart..<i])).replacingOccurrences(of: "_", with: "")
      guard let v = Int(digits, radix: radix) else { throw TemplateError(.syntax, "invalid number") }
      return .int(v)
    }
    digits()
    var isFloat = false
    if !afterDot, i + 1 < s.count, s[i] == ".", isDigit(s[i + 1]) {
      isFloat = true
      i += 1
      digits()
    }
    if !afterDot, i < s.count, s[i] == "e" || s[i] == "E" {
      var k = i + 1
      if k < s.count, s[k] == "+" || s[k] == "-" { k += 1 }
      if k < s.count, isDigit(s[k]) {
        isFloat = true
        i = k
        digits()
      }
    }
    let text = String(String.UnicodeScalarView(s[start..<i])).replacingOccurrences(of: "_", with: "")
    if isFloat, let d = Double(text) { return .float(d) }
    guard let v = Int(text) else { throw TemplateError(.syntax, "number \(text) is too large") }
    return .int(v)
  }

  private mutating func digits() {
    while i < s.count, isDigit(s[i]) || (s[i] == "_" && i + 1 < s.count && isDigit(s[i + 1])) { i += 1 }
  }

  private func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
  private func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\u{0B}" || c == "\u{0C}" }
}
