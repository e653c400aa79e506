/// The expression shapes `literal_eval` can meet. Anything outside them is a syntax error or a
/// non-literal expression, and both leave the value as text.
indirect enum PyNode {
  case int(String, radix: Int)  // digits without underscores or prefix
  case float(String)  // normalised for Swift's Double(String:)
  case imaginary(String)  // the float/int text before `j`
  case str(String)
  case bytes([UInt8])
  case constant(PyObject)  // True, False, None, ...
  case tuple([PyNode])
  case list([PyNode])
  case set([PyNode])
  case dict([(PyNode, PyNode)])
  case emptySetCall
  case unary(negative: Bool, PyNode)
  case binary(add: Bool, PyNode, PyNode)
}

/// A parser for the literal subset of Python eval-mode expressions: the grammar of tuples,
/// lists, sets, dicts and signed sums here; numbers, strings and blanks, the lexical part, in
/// PyLiteralLexemes.swift.
struct PyLiteralParser {
  let s: [Unicode.Scalar]
  var i = 0
  /// Open brackets around the current position: Python's tokenizer refuses more than 200
  /// ("too many nested parentheses", a SyntaxError, so Ansible keeps the text) — and the
  /// limit keeps this recursive parser off the end of the stack.
  private var nesting = 0
  /// Signs in a row (`- - -1`); Python fails with a RecursionError long before this bound.
  private var signs = 0
  static let maxNesting = 200

  init(_ s: [Unicode.Scalar]) {
    self.s = s
    // literal_eval strips leading spaces and tabs before parsing.
    while i < s.count, s[i] == " " || s[i] == "\t" { i += 1 }
  }

  /// The whole input: one expression, or a bare tuple (`1, 2` and `1,`), then only blanks.
  mutating func parseInput() -> PyNode? {
    skipBlanks()
    guard i < s.count else { return nil }
    guard let list = parseExprList(closer: nil) else { return nil }
    skipBlanks()
    return i == s.count ? list : nil
  }

  /// `expr (',' expr)* [',']`; a comma makes it a tuple.
  private mutating func parseExprList(closer: Unicode.Scalar?) -> PyNode? {
    guard let first = parseExpr() else { return nil }
    skipBlanks()
    guard peek == "," else { return first }
    var items = [first]
    while peek == "," {
      i += 1
      skipBlanks()
      if i == s.count || (closer != nil && peek == closer) { break }
      guard let next = parseExpr() else { return nil }
      items.append(next)
      skipBlanks()
    }
    return .tuple(items)
  }

  /// A sum of signed terms: `a`, `-a`, `a + b - c`. Other operators are not literals.
  private mutating func parseExpr() -> PyNode? {
    guard var left = parseUnary() else { return nil }
    while true {
      skipBlanks()
      guard let op = peek, op == "+" || op == "-" else { break }
      i += 1
      guard let right = parseUnary() else { return nil }
      left = .binary(add: op == "+", left, right)
    }
    skipBlanks()
    // Any other operator, call, subscript or attribute makes a non-literal expression.
    if let c = peek, !(c == "," || c == ")" || c == "]" || c == "}" || c == ":") { return nil }
    return left
  }

  private mutating func parseUnary() -> PyNode? {
    skipBlanks()
    if let c = peek, c == "-" || c == "+" {
      i += 1
      signs += 1
      defer { signs -= 1 }
      guard signs <= Self.maxNesting * 4, let operand = parseUnary() else { return nil }
      return .unary(negative: c == "-", operand)
    }
    return parseAtom()
  }

  private mutating func parseAtom() -> PyNode? {
    skipBlanks()
    guard let c = peek else { return nil }
    if c == "(" || c == "[" || c == "{" {
      nesting += 1
      guard nesting <= Self.maxNesting else { return nil }
    }
    defer { if c == "(" || c == "[" || c == "{" { nesting -= 1 } }
    switch c {
    case "(":
      i += 1
      skipBlanks()
      if peek == ")" { i += 1; return .tuple([]) }
      guard let inner = parseExprList(closer: ")") else { return nil }
      skipBlanks()
      guard peek == ")" else { return nil }
      i += 1
      return inner
    case "[":
      i += 1
      var items: [PyNode] = []
      guard parseSequence(closer: "]", into: &items) else { return nil }
      return .list(items)
    case "{":
      return parseBrace()
    case "0"..."9":
      return parseNumber()
    case ".":
      if i + 2 < s.count, s[i + 1] == ".", s[i + 2] == "." {
        i += 3
        return .constant(.ellipsis)
      }
      if i + 1 < s.count, isDigit(s[i + 1]) { return parseNumber() }
      return nil
    case "'", "\"":
      return parseStrings()
    default:
      guard isIdentStart(c) else { return nil }
      let start = i
      while i < s.count, isIdentContinue(s[i]) { i += 1 }
      let word = String(String.UnicodeScalarView(s[start..<i]))
      if i < s.count, s[i] == "'" || s[i] == "\"", isStringPrefix(word) {
        i = start
        return parseStrings()
      }
      switch word {
      case "True": return .constant(.bool(true))
      case "False": return .constant(.bool(false))
      case "None": return .constant(.none)
      case "set":
        // `set()` is the one call literal_eval allows.
        skipBlanks()
        guard peek == "(" else { return nil }
        i += 1
        skipBlanks()
        guard peek == ")" else { return nil }
        i += 1
        return .emptySetCall
      default: return nil
      }
    }
  }

  /// Items up to `closer`, with an optional trailing comma.
  private mutating func parseSequence(closer: Unicode.Scalar, into items: inout [PyNode]) -> Bool {
    while true {
      skipBlanks()
      if peek == closer { i += 1; return true }
      guard let item = parseExpr() else { return false }
      items.append(item)
      skipBlanks()
      if peek == "," { i += 1; continue }
      if peek == closer { i += 1; return true }
      return false
    }
  }

  /// `{}` is a dict; `{a, b}` a set; `{k: v}` a dict.
  private mutating func parseBrace() -> PyNode? {
    i += 1
    skipBlanks()
    if peek == "}" { i += 1; return .dict([]) }
    guard let first = parseExpr() else { return nil }
    skipBlanks()
    if peek == ":" {
      i += 1
      guard let firstValue = parseExpr() else { return nil }
      var pairs = [(first, firstValue)]
      while true {
        skipBlanks()
        if peek == "}" { i += 1; return .dict(pairs) }
        guard peek == "," else { return nil }
        i += 1
        skipBlanks()
        if peek == "}" { i += 1; return .dict(pairs) }
        guard let key = parseExpr() else { return nil }
        skipBlanks()
        guard peek == ":" else { return nil }
        i += 1
        guard let value = parseExpr() else { return nil }
        pairs.append((key, value))
      }
    }
    var items = [first]
    if peek == "," { i += 1 } else if peek == "}" { i += 1; return .set(items) } else { return nil }
    guard parseSequence(closer: "}", into: &items) else { return nil }
    return .set(items)
  }
}
