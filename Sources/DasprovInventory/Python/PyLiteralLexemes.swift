/// The lexical part of `PyLiteralParser`: numeric and string literals, blanks, character classes.
extension PyLiteralParser {
  // MARK: Numbers

  /// Python 3 numeric literals: decimal (no leading zeros), 0x/0o/0b, floats, imaginary, `_`.
  mutating func parseNumber() -> PyNode? {
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
  mutating func parseStrings() -> PyNode? {
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
      guard let decoded = PyEscapes.decode(body, bytes: true) else { return nil }
      return .bytes(decoded.map { UInt8($0.value) })
    }
    if raw { return .str(String(String.UnicodeScalarView(body))) }
    guard let decoded = PyEscapes.decode(body, bytes: false) else { return nil }
    return .str(String(String.UnicodeScalarView(decoded)))
  }

  func isStringPrefix(_ word: String) -> Bool {
    ["", "r", "u", "b", "br", "rb", "f", "fr", "rf"].contains(word.lowercased())
  }

  // MARK: Characters

  var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

  /// Spaces, tabs, form feeds and a trailing `# comment`.
  mutating func skipBlanks() {
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

  func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

  private func digitValue(_ c: Unicode.Scalar) -> Int? {
    switch c {
    case "0"..."9": return Int(c.value - 48)
    case "a"..."f": return Int(c.value - 87)
    case "A"..."F": return Int(c.value - 55)
    default: return nil
    }
  }

  func isIdentStart(_ c: Unicode.Scalar) -> Bool {
    c == "_" || c.properties.isXIDStart
  }

  func isIdentContinue(_ c: Unicode.Scalar) -> Bool {
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
