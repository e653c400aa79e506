import DasprovCore

/// What Ansible's INI plugin makes of one `key=value` value.
///
/// The plugin runs Python's `ast.literal_eval` on every value (inline host variables and `:vars`
/// lines alike) and keeps the raw text when that fails. This type reproduces that: it accepts
/// exactly the Python literal subset (numbers, strings and bytes with every prefix and escape,
/// `True`/`False`/`None`/`...`, tuples, lists, sets, dicts, `set()`, a sign on a number and
/// `real ± imaginary`), and anything else — a syntax error or a non-literal expression — stays
/// the original string, as it does in Ansible.
enum PyLiteral {
  /// The outcome of evaluating one value.
  enum Outcome: Equatable {
    /// A literal, converted the way Ansible stores it.
    case value(Value)
    /// Not a literal: Ansible keeps the text unchanged.
    case raw
    /// A literal Python refuses with an exception Ansible does not catch (such as an unhashable
    /// set element), which fails the whole inventory.
    case error(String)
  }

  /// The variable Ansible stores for `text`.
  static func evaluate(_ text: String) throws(PyLiteralError) -> Value {
    var unsafe: [TaggedLeaf] = []
    return try evaluate(text, unsafe: &unsafe)
  }

  /// The variable Ansible stores for `text`, and where in it bytes literals became (untrusted)
  /// text.
  static func evaluate(_ text: String, unsafe: inout [TaggedLeaf]) throws(PyLiteralError) -> Value {
    switch outcome(text, unsafe: &unsafe) {
    case .value(let v): return v
    case .raw: return .string(text)
    case .error(let message): throw PyLiteralError(message: message)
    }
  }

  static func outcome(_ text: String) -> Outcome {
    var unsafe: [TaggedLeaf] = []
    return outcome(text, unsafe: &unsafe)
  }

  private static func outcome(_ text: String, unsafe: inout [TaggedLeaf]) -> Outcome {
    if let fast = fastPath(text) { return .value(fast) }
    if obviouslyRaw(text) { return .raw }
    var parser = Parser(Array(text.unicodeScalars))
    guard let node = parser.parseInput() else { return .raw }
    do throws(EvalFailure) {
      let py = try Evaluator.convert(node)
      return try .value(py.ansibleValue(unsafe: &unsafe))
    } catch {
      switch error {
      case .malformed: return .raw
      case .fatal(let message): return .error(message)
      }
    }
  }

  /// Most inventory values are plain words or small decimal numbers; skip the parser for them.
  private static func fastPath(_ text: String) -> Value? {
    let utf8 = text.utf8
    guard let first = utf8.first, utf8.count <= 18 else { return nil }
    if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9")
      && utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
    {
      return Int(text).map(Value.int)
    }
    if text == "0" { return .int(0) }
    // A lowercase word is a Python name (or keyword), never a literal: the text stays.
    let isLowerWord = utf8.allSatisfy {
      ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 == UInt8(ascii: "_")
    }
    if isLowerWord { return .string(text) }
    return nil
  }

  /// Text that cannot be a literal, found without parsing: no quotes, and either an address-like
  /// run of digits and dots (`10.0.0.1`), or no digits, brackets or literal keywords at all
  /// (`/opt/wso2das`, `analyzers,indexers`).
  private static func obviouslyRaw(_ text: String) -> Bool {
    var dots = 0
    var digitsAndDotsOnly = true
    var hasDigit = false
    for b in text.utf8 {
      switch b {
      case UInt8(ascii: "'"), UInt8(ascii: "\""): return false
      case UInt8(ascii: "0")...UInt8(ascii: "9"): hasDigit = true
      case UInt8(ascii: "."): dots += 1
      case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): return false
      default: digitsAndDotsOnly = false
      }
    }
    if digitsAndDotsOnly { return dots >= 2 }
    if hasDigit { return false }
    return !(text.contains("True") || text.contains("False") || text.contains("None")
      || text.contains("..."))
  }
}

/// A literal Python would reject with an uncaught exception (Ansible then fails the inventory).
struct PyLiteralError: Error, Equatable {
  var message: String
}

// MARK: - Syntax

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

/// A Python tokenizer and parser for the literal subset of eval-mode expressions.
private struct Parser {
  let s: [Unicode.Scalar]
  var i = 0

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
      guard let operand = parseUnary() else { return nil }
      return .unary(negative: c == "-", operand)
    }
    return parseAtom()
  }

  private mutating func parseAtom() -> PyNode? {
    skipBlanks()
    guard let c = peek else { return nil }
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

  // MARK: Numbers

  /// Python 3 numeric literals: decimal (no leading zeros), 0x/0o/0b, floats, imaginary, `_`.
  private mutating func parseNumber() -> PyNode? {
    if s[i] == "0", i + 1 < s.count, let radix = radixFor(s[i + 1]) {
      i += 2
      var digits = ""
      var prevUnderscore = false  // one underscore may follow the prefix or a digit
      var sawDigit = false
      while i < s.count {
        let c = s[i]
        if c == "_" {
          if prevUnderscore { return nil }
          prevUnderscore = true
          i += 1
          continue
        }
        guard let d = digitValue(c), d < radix else { break }
        digits.unicodeScalars.append(c)
        prevUnderscore = false
        sawDigit = true
        i += 1
      }
      guard sawDigit, !prevUnderscore, !followsIdentifier() else { return nil }
      return .int(digits, radix: radix)
    }
    guard let intPart = scanDigitPart(allowEmpty: s[i] == ".") else { return nil }
    var isFloat = false
    var text = intPart
    if peek == "." {
      isFloat = true
      i += 1
      text += "."
      if let c = peek, isDigit(c) {
        guard let frac = scanDigitPart(allowEmpty: false) else { return nil }
        text += frac
      }
    }
    if let c = peek, c == "e" || c == "E" {
      let save = i
      i += 1
      var exp = "e"
      if let sign = peek, sign == "+" || sign == "-" { exp.unicodeScalars.append(sign); i += 1 }
      if let d = peek, isDigit(d), let digits = scanDigitPart(allowEmpty: false) {
        text += exp + digits
        isFloat = true
      } else {
        i = save
        return nil  // `1e` or `1e+` is a syntax error
      }
    }
    if let c = peek, c == "j" || c == "J" {
      i += 1
      guard !followsIdentifier() else { return nil }
      return .imaginary(normalizedFloat(text))
    }
    guard !followsIdentifier() else { return nil }
    if isFloat { return .float(normalizedFloat(text)) }
    // Python 3 rejects leading zeros in decimal integers, except for zero itself.
    if intPart.count > 1, intPart.unicodeScalars.first == "0",
      intPart.unicodeScalars.contains(where: { $0 != "0" })
    {
      return nil
    }
    return .int(intPart, radix: 10)
  }

  /// Digits with single underscores between them.
  private mutating func scanDigitPart(allowEmpty: Bool) -> String? {
    var out = ""
    var lastUnderscore = false
    while i < s.count {
      let c = s[i]
      if c == "_" {
        if out.isEmpty || lastUnderscore { return nil }
        lastUnderscore = true
      } else if isDigit(c) {
        out.unicodeScalars.append(c)
        lastUnderscore = false
      } else {
        break
      }
      i += 1
    }
    if lastUnderscore { return nil }
    if out.isEmpty && !allowEmpty { return nil }
    return out
  }

  /// A number glued to letters (`1abc`, `0x1g`) is a syntax error in Python 3.
  private func followsIdentifier() -> Bool {
    guard let c = peek else { return false }
    return isIdentContinue(c)
  }

  private func normalizedFloat(_ text: String) -> String {
    var t = text
    if t.hasPrefix(".") { t = "0" + t }
    if t.isEmpty { t = "0" }
    t = t.replacingDotBeforeExponent()
    return t
  }

  private func radixFor(_ c: Unicode.Scalar) -> Int? {
    switch c {
    case "x", "X": return 16
    case "o", "O": return 8
    case "b", "B": return 2
    default: return nil
    }
  }

  // MARK: Strings

  /// One or more adjacent string literals, concatenated; str and bytes may not mix.
  private mutating func parseStrings() -> PyNode? {
    var text: String?
    var bytes: [UInt8]?
    repeat {
      guard let piece = parseOneString() else { return nil }
      switch piece {
      case .str(let t):
        if bytes != nil { return nil }
        text = (text ?? "") + t
      case .bytes(let b):
        if text != nil { return nil }
        bytes = (bytes ?? []) + b
      default: return nil
      }
      skipBlanks()
    } while atStringStart()
    if let bytes { return .bytes(bytes) }
    return text.map(PyNode.str)
  }

  /// A quote, or a string prefix followed by a quote.
  private func atStringStart() -> Bool {
    var k = i
    while k < s.count, k - i <= 2, s[k].isASCII, s[k].properties.isAlphabetic { k += 1 }
    let word = String(String.UnicodeScalarView(s[i..<k]))
    return k < s.count && (s[k] == "'" || s[k] == "\"") && isStringPrefix(word)
  }

  private mutating func parseOneString() -> PyNode? {
    let start = i
    while i < s.count, isIdentContinue(s[i]) { i += 1 }
    let prefix = String(String.UnicodeScalarView(s[start..<i])).lowercased()
    guard isStringPrefix(prefix), i < s.count, s[i] == "'" || s[i] == "\"" else {
      i = start
      return nil
    }
    // f-strings parse to JoinedStr, which literal_eval refuses.
    if prefix.contains("f") { return nil }
    let raw = prefix.contains("r")
    let isBytes = prefix.contains("b")
    let quote = s[i]
    var triple = false
    if i + 2 < s.count, s[i + 1] == quote, s[i + 2] == quote {
      triple = true
      i += 3
    } else {
      i += 1
    }
    var body: [Unicode.Scalar] = []
    while true {
      guard i < s.count else { return nil }  // unterminated
      let c = s[i]
      if c == "\\" {
        guard i + 1 < s.count else { return nil }
        body.append(c)
        body.append(s[i + 1])
        i += 2
        continue
      }
      if c == quote {
        if !triple { i += 1; break }
        if i + 2 < s.count, s[i + 1] == quote, s[i + 2] == quote { i += 3; break }
      }
      body.append(c)
      i += 1
    }
    if isBytes {
      guard body.allSatisfy({ $0.isASCII }) else { return nil }
      if raw { return .bytes(body.map { UInt8($0.value) }) }
      guard let decoded = Escapes.decode(body, bytes: true) else { return nil }
      return .bytes(decoded.map { UInt8($0.value) })
    }
    if raw { return .str(String(String.UnicodeScalarView(body))) }
    guard let decoded = Escapes.decode(body, bytes: false) else { return nil }
    return .str(String(String.UnicodeScalarView(decoded)))
  }

  private func isStringPrefix(_ word: String) -> Bool {
    ["", "r", "u", "b", "br", "rb", "f", "fr", "rf"].contains(word.lowercased())
  }

  // MARK: Characters

  private var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

  /// Spaces, tabs, form feeds and a trailing `# comment`.
  private mutating func skipBlanks() {
    while i < s.count {
      let c = s[i]
      if c == " " || c == "\t" || c == "\u{0C}" {
        i += 1
      } else if c == "#" {
        i = s.count
      } else {
        break
      }
    }
  }

  private func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

  private func digitValue(_ c: Unicode.Scalar) -> Int? {
    switch c {
    case "0"..."9": return Int(c.value - 48)
    case "a"..."f": return Int(c.value - 87)
    case "A"..."F": return Int(c.value - 55)
    default: return nil
    }
  }

  private func isIdentStart(_ c: Unicode.Scalar) -> Bool {
    c == "_" || c.properties.isXIDStart
  }

  private func isIdentContinue(_ c: Unicode.Scalar) -> Bool {
    c == "_" || c.properties.isXIDContinue
  }
}

extension String {
  /// `1.e5` is valid Python but not for `Double(_:)`; give it a zero after the dot.
  fileprivate func replacingDotBeforeExponent() -> String {
    var out = ""
    var prev: Character?
    for ch in self {
      if (ch == "e" || ch == "E"), prev == "." { out.append("0") }
      out.append(ch)
      prev = ch
    }
    if out.hasSuffix(".") { out.append("0") }
    return out
  }
}

/// Python's escape sequences in non-raw string and bytes literals.
private enum Escapes {
  static func decode(_ body: [Unicode.Scalar], bytes: Bool) -> [Unicode.Scalar]? {
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(body.count)
    var i = 0
    while i < body.count {
      let c = body[i]
      guard c == "\\", i + 1 < body.count else {
        out.append(c)
        i += 1
        continue
      }
      let e = body[i + 1]
      i += 2
      switch e {
      case "\\": out.append("\\")
      case "'": out.append("'")
      case "\"": out.append("\"")
      case "a": out.append("\u{07}")
      case "b": out.append("\u{08}")
      case "f": out.append("\u{0C}")
      case "n": out.append("\n")
      case "r": out.append("\r")
      case "t": out.append("\t")
      case "v": out.append("\u{0B}")
      case "0"..."7":
        var value = Int(e.value - 48)
        var n = 1
        while n < 3, i < body.count, body[i] >= "0", body[i] <= "7" {
          value = value * 8 + Int(body[i].value - 48)
          i += 1
          n += 1
        }
        if bytes { value &= 0xFF }
        guard let scalar = Unicode.Scalar(value) else { return nil }
        out.append(scalar)
      case "x":
        guard let v = hex(body, &i, count: 2), let scalar = Unicode.Scalar(v) else { return nil }
        out.append(scalar)
      case "u" where !bytes, "U" where !bytes:
        // Lone surrogates cannot live in a Swift string; treat them as not-a-literal.
        guard let v = hex(body, &i, count: e == "u" ? 4 : 8), let scalar = Unicode.Scalar(v)
        else { return nil }
        out.append(scalar)
      case "N" where !bytes:
        guard i < body.count, body[i] == "{", let close = body[i...].firstIndex(of: "}") else {
          return nil
        }
        let name = String(String.UnicodeScalarView(body[(i + 1)..<close]))
        guard let scalar = UnicodeNames.lookup(name) else { return nil }
        out.append(scalar)
        i = close + 1
      default:
        // Unknown escapes keep their backslash (Python only warns).
        out.append("\\")
        out.append(e)
      }
    }
    return out
  }

  private static func hex(_ body: [Unicode.Scalar], _ i: inout Int, count: Int) -> UInt32? {
    guard i + count <= body.count else { return nil }
    var v: UInt32 = 0
    for k in 0..<count {
      guard let d = hexDigit(body[i + k]) else { return nil }
      v = v * 16 + d
    }
    i += count
    return v
  }

  private static func hexDigit(_ c: Unicode.Scalar) -> UInt32? {
    switch c {
    case "0"..."9": return c.value - 48
    case "a"..."f": return c.value - 87
    case "A"..."F": return c.value - 55
    default: return nil
    }
  }
}

/// `\N{NAME}` lookups, case-insensitive like Python's `unicodedata.lookup`.
private enum UnicodeNames {
  static func lookup(_ name: String) -> Unicode.Scalar? {
    let wanted = name.uppercased()
    for plane in [0x0...0xD7FF, 0xE000...0x10FFFF] {
      for v in plane {
        guard let scalar = Unicode.Scalar(UInt32(v)) else { continue }
        if scalar.properties.name == wanted || scalar.properties.nameAlias == wanted {
          return scalar
        }
      }
    }
    return nil
  }
}

// MARK: - Evaluation

/// The Python objects literal_eval builds.
indirect enum PyObject {
  case none
  case bool(Bool)
  case int(Int)
  case bigInt(String)  // beyond 64 bits: kept as its source text
  case float(Double)
  case complex(Double, Double)
  case str(String)
  case bytes([UInt8])
  case ellipsis
  case tuple([PyObject])
  case list([PyObject])
  case set([PyObject])
  case dict([(PyObject, PyObject)])
}

enum EvalFailure: Error {
  /// literal_eval raises ValueError: Ansible keeps the text.
  case malformed
  /// Python raises something Ansible does not catch: the inventory fails.
  case fatal(String)
}

/// `ast.literal_eval`'s `_convert`, over `PyNode`.
private enum Evaluator {
  static func convert(_ node: PyNode) throws(EvalFailure) -> PyObject {
    switch node {
    case .int, .float, .imaginary, .str, .bytes, .constant:
      return try constant(node)
    case .tuple(let items): return .tuple(try items.map(convert))
    case .list(let items): return .list(try items.map(convert))
    case .set(let items):
      var out: [PyObject] = []
      for item in items {
        let v = try convert(item)
        try requireHashable(v)
        if !out.contains(where: { pyEqual($0, v) }) { out.append(v) }
      }
      return .set(out)
    case .emptySetCall: return .set([])
    case .dict(let pairs):
      var out: [(PyObject, PyObject)] = []
      for (k, v) in pairs {
        let key = try convert(k)
        let value = try convert(v)
        try requireHashable(key)
        if let at = out.firstIndex(where: { pyEqual($0.0, key) }) {
          out[at].1 = value  // Python keeps the first key object and the last value
        } else {
          out.append((key, value))
        }
      }
      return .dict(out)
    case .binary(let add, let l, let r):
      let left = try signedNumber(l)
      let right = try number(r)
      guard case .complex(let re, let im) = right else { throw .malformed }
      switch left {
      case .int(let a): return .complex(Double(a) + (add ? re : -re), add ? im : -im)
      case .float(let a): return .complex(a + (add ? re : -re), add ? im : -im)
      default: throw .malformed
      }
    case .unary:
      return try signedNumber(node)
    }
  }

  private static func constant(_ node: PyNode) throws(EvalFailure) -> PyObject {
    switch node {
    case .int(let digits, let radix):
      if let v = Int(digits, radix: radix) { return .int(v) }
      // Python 3.11 refuses to convert more than 4300 decimal digits.
      if radix == 10, digits.count > 4300 { throw .malformed }
      return .bigInt(digits.isEmpty ? "0" : radix == 10 ? digits : "0" + radixLetter(radix) + digits)
    case .float(let text):
      return .float(Double(text) ?? .infinity)
    case .imaginary(let text):
      return .complex(0, Double(text) ?? .infinity)
    case .str(let s): return .str(s)
    case .bytes(let b): return .bytes(b)
    case .constant(let c): return c
    default: throw .malformed
    }
  }

  private static func radixLetter(_ radix: Int) -> String {
    radix == 16 ? "x" : radix == 8 ? "o" : "b"
  }

  /// `_convert_num`: an int, float or complex constant (not a bool).
  private static func number(_ node: PyNode) throws(EvalFailure) -> PyObject {
    switch node {
    case .int, .float, .imaginary: return try constant(node)
    default: throw .malformed
    }
  }

  /// `_convert_signed_num`: a number with at most one sign.
  private static func signedNumber(_ node: PyNode) throws(EvalFailure) -> PyObject {
    guard case .unary(let negative, let operand) = node else { return try number(node) }
    let v = try number(operand)
    guard negative else { return v }
    switch v {
    case .int(let i): return .int(-i)
    case .bigInt(let text): return .bigInt(text.hasPrefix("-") ? String(text.dropFirst()) : "-" + text)
    case .float(let d): return .float(-d)
    case .complex(let re, let im): return .complex(-re, -im)
    default: throw .malformed
    }
  }

  private static func requireHashable(_ v: PyObject) throws(EvalFailure) {
    switch v {
    case .list: throw .fatal("unhashable type: 'list'")
    case .set: throw .fatal("unhashable type: 'set'")
    case .dict: throw .fatal("unhashable type: 'dict'")
    case .tuple(let items): for item in items { try requireHashable(item) }
    default: break
    }
  }
}

/// Python `==` between literal objects (so `{1, 1.0, True}` has one element).
private func pyEqual(_ a: PyObject, _ b: PyObject) -> Bool {
  func numeric(_ v: PyObject) -> (Double, Double)? {
    switch v {
    case .bool(let x): return (x ? 1 : 0, 0)
    case .int(let x): return (Double(x), 0)
    case .float(let x): return (x, 0)
    case .complex(let re, let im): return (re, im)
    default: return nil
    }
  }
  if case .int(let x) = a, case .int(let y) = b { return x == y }
  if let x = numeric(a), let y = numeric(b) { return x == y }
  switch (a, b) {
  case (.none, .none), (.ellipsis, .ellipsis): return true
  case (.str(let x), .str(let y)): return x == y
  case (.bytes(let x), .bytes(let y)): return x == y
  case (.bigInt(let x), .bigInt(let y)): return x == y
  case (.tuple(let x), .tuple(let y)):
    return x.count == y.count && zip(x, y).allSatisfy { pyEqual($0, $1) }
  default: return false
  }
}
