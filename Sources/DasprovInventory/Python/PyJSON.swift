import DasprovCore

/// Python's `json.loads`, which Ansible tries before YAML on every vars file.
///
/// The difference matters: as JSON, `{"a": 1e3}` is the float 1000.0, while YAML 1.1 reads
/// `1e3` as a string. Also used by the tests to read `ansible-inventory` output, so numbers keep
/// their int/float kind (`1` vs `1.0`) and `NaN`/`Infinity` are accepted.
enum PyJSON {
  /// One top-level key and where it was written (1-based line and column).
  struct KeyPosition {
    var line: Int
    var column: Int
    var length: Int
  }

  /// The value, and for a top-level object the position of each key (the last one wins).
  static func parse(_ text: String) -> (Value, [String: KeyPosition])? {
    var p = JSONParser(Array(text.unicodeScalars))
    p.skipSpace()
    guard let value = p.parseValue(depth: 0) else { return nil }
    p.skipSpace()
    guard p.i == p.s.count else { return nil }
    return (value, p.topKeys)
  }
}

private struct JSONParser {
  let s: [Unicode.Scalar]
  var i = 0
  var line = 1
  var lineStart = 0
  var topKeys: [String: PyJSON.KeyPosition] = [:]

  init(_ s: [Unicode.Scalar]) { self.s = s }

  mutating func skipSpace() {
    while i < s.count {
      switch s[i] {
      case " ", "\t", "\r": i += 1
      case "\n":
        i += 1
        line += 1
        lineStart = i
      default: return
      }
    }
  }

  mutating func parseValue(depth: Int) -> Value? {
    guard i < s.count, depth < 1000 else { return nil }
    switch s[i] {
    case "{": return parseObject(depth: depth)
    case "[": return parseArray(depth: depth)
    case "\"": return parseString().map(Value.string)
    case "t": return literal("true", .bool(true))
    case "f": return literal("false", .bool(false))
    case "n": return literal("null", .null)
    case "N": return literal("NaN", .double(.nan))
    case "I": return literal("Infinity", .double(.infinity))
    case "-":
      if i + 1 < s.count, s[i + 1] == "I" {
        i += 1
        return literal("Infinity", .double(-.infinity))
      }
      return parseNumber()
    default: return parseNumber()
    }
  }

  private mutating func literal(_ word: String, _ value: Value) -> Value? {
    let w = Array(word.unicodeScalars)
    guard i + w.count <= s.count, Array(s[i..<(i + w.count)]) == w else { return nil }
    i += w.count
    return value
  }

  private mutating func parseObject(depth: Int) -> Value? {
    i += 1
    var out: [String: Value] = [:]
    skipSpace()
    if i < s.count, s[i] == "}" { i += 1; return .map(out) }
    while true {
      skipSpace()
      guard i < s.count, s[i] == "\"" else { return nil }
      let keyStart = i
      let keyLine = line
      let keyColumn = columnOf(keyStart)
      guard let key = parseString() else { return nil }
      if depth == 0 {
        topKeys[key] = PyJSON.KeyPosition(line: keyLine, column: keyColumn, length: i - keyStart)
      }
      skipSpace()
      guard i < s.count, s[i] == ":" else { return nil }
      i += 1
      skipSpace()
      guard let value = parseValue(depth: depth + 1) else { return nil }
      out[key] = value
      skipSpace()
      guard i < s.count else { return nil }
      if s[i] == "," { i += 1; continue }
      if s[i] == "}" { i += 1; return .map(out) }
      return nil
    }
  }

  private func columnOf(_ index: Int) -> Int {
    String(String.UnicodeScalarView(s[lineStart..<index])).count + 1
  }

  private mutating func parseArray(depth: Int) -> Value? {
    i += 1
    var out: [Value] = []
    skipSpace()
    if i < s.count, s[i] == "]" { i += 1; return .list(out) }
    while true {
      skipSpace()
      guard let value = parseValue(depth: depth + 1) else { return nil }
      out.append(value)
      skipSpace()
      guard i < s.count else { return nil }
      if s[i] == "," { i += 1; continue }
      if s[i] == "]" { i += 1; return .list(out) }
      return nil
    }
  }

  private mutating func parseString() -> String? {
    i += 1
    var out = String.UnicodeScalarView()
    while i < s.count {
      let c = s[i]
      i += 1
      switch c {
      case "\"": return String(out)
      case "\\":
        guard i < s.count else { return nil }
        let e = s[i]
        i += 1
        switch e {
        case "\"": out.append("\"")
        case "\\": out.append("\\")
        case "/": out.append("/")
        case "b": out.append("\u{08}")
        case "f": out.append("\u{0C}")
        case "n": out.append("\n")
        case "r": out.append("\r")
        case "t": out.append("\t")
        case "u":
          guard var v = hex4() else { return nil }
          if (0xD800...0xDBFF).contains(v), i + 1 < s.count, s[i] == "\\", s[i + 1] == "u" {
            let save = i
            i += 2
            if let low = hex4(), (0xDC00...0xDFFF).contains(low) {
              v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
            } else {
              i = save
            }
          }
          // A lone surrogate cannot be held in a Swift string.
          guard let scalar = Unicode.Scalar(v) else { return nil }
          out.append(scalar)
        default: return nil
        }
      default:
        // Python's strict mode rejects raw control characters inside strings.
        if c.value < 0x20 { return nil }
        out.append(c)
      }
    }
    return nil
  }

  private mutating func hex4() -> UInt32? {
    guard i + 4 <= s.count else { return nil }
    var v: UInt32 = 0
    for k in 0..<4 {
      let c = s[i + k]
      let d: UInt32
      switch c {
      case "0"..."9": d = c.value - 48
      case "a"..."f": d = c.value - 87
      case "A"..."F": d = c.value - 55
      default: return nil
      }
      v = v * 16 + d
    }
    i += 4
    return v
  }

  /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`; an int unless it has a fraction or exponent.
  private mutating func parseNumber() -> Value? {
    let start = i
    if i < s.count, s[i] == "-" { i += 1 }
    guard i < s.count, isDigit(s[i]) else { return nil }
    if s[i] == "0" {
      i += 1
    } else {
      while i < s.count, isDigit(s[i]) { i += 1 }
    }
    var isFloat = false
    if i + 1 < s.count, s[i] == ".", isDigit(s[i + 1]) {
      isFloat = true
      i += 1
      while i < s.count, isDigit(s[i]) { i += 1 }
    }
    if i < s.count, s[i] == "e" || s[i] == "E" {
      var k = i + 1
      if k < s.count, s[k] == "+" || s[k] == "-" { k += 1 }
      if k < s.count, isDigit(s[k]) {
        isFloat = true
        i = k
        while i < s.count, isDigit(s[i]) { i += 1 }
      }
    }
    let text = String(String.UnicodeScalarView(s[start..<i]))
    if isFloat { return Double(text).map(Value.double) ?? .double(text.hasPrefix("-") ? -.infinity : .infinity) }
    if let v = Int(text) { return .int(v) }
    return .string(text)  // beyond 64 bits: kept as its digits
  }

  private func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
}
