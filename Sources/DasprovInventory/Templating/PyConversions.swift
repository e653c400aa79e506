import DasprovCore
import Foundation

/// Python's `int()` and `float()` as Jinja's `int` and `float` filters call them.
enum PyNumber {
  /// Jinja's `do_int`: `int(text, base)`, else `int(float(text))`; `nil` where it would give up
  /// and return the default.
  static func int(_ v: Value, base: Int) -> Int? {
    switch v {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    case .double(let d): return truncated(d)
    case .string(let s): return parseInt(s, base: base) ?? parseFloat(s).flatMap(truncated)
    default: return nil
    }
  }

  /// Jinja's `do_float`: `float(value)`, `nil` where Python raises.
  static func float(_ v: Value) -> Double? {
    switch v {
    case .int(let i): return Double(i)
    case .bool(let b): return b ? 1 : 0
    case .double(let d): return d
    case .string(let s): return parseFloat(s)
    default: return nil
    }
  }

  private static func truncated(_ d: Double) -> Int? {
    guard d.isFinite, abs(d) < 9.2e18 else { return nil }
    return Int(d)
  }

  /// `int(text, base)`: blanks around, a sign, the base's prefix, digits with single `_` between.
  static func parseInt(_ text: String, base: Int) -> Int? {
    var s = Substring(PyString.strip(text))
    var negative = false
    if let c = s.first, c == "+" || c == "-" {
      negative = c == "-"
      s = s.dropFirst()
    }
    let prefixes: [Int: String] = [16: "0x", 8: "0o", 2: "0b"]
    if let prefix = prefixes[base], s.lowercased().hasPrefix(prefix) {
      s = s.dropFirst(2)
      if s.first == "_" { s = s.dropFirst() }
    }
    guard let digits = withoutUnderscores(s), let v = Int(digits, radix: base) else { return nil }
    return negative ? -v : v
  }

  /// `float(text)`: decimal, exponent, `_` between digits, `inf`/`infinity`/`nan` in any case.
  static func parseFloat(_ text: String) -> Double? {
    let s = PyString.strip(text)
    var body = Substring(s)
    var negative = false
    if let c = body.first, c == "+" || c == "-" {
      negative = c == "-"
      body = body.dropFirst()
    }
    switch body.lowercased() {
    case "inf", "infinity": return negative ? -.infinity : .infinity
    case "nan": return .nan
    default: break
    }
    guard body.allSatisfy({ $0.isASCII && ($0.isNumber || "._eE+-".contains($0)) }),
      body.contains(where: \.isNumber),
      let cleaned = withoutUnderscores(body), let d = Double(cleaned)
    else { return nil }
    return negative ? -d : d
  }

  /// The text without its underscores, when each stands between two digits (Python's rule).
  private static func withoutUnderscores(_ s: Substring) -> String? {
    let chars = Array(s)
    guard !chars.isEmpty else { return nil }
    for (i, c) in chars.enumerated() where c == "_" {
      guard i > 0, i < chars.count - 1, chars[i - 1].isHexDigit, chars[i + 1].isHexDigit else { return nil }
    }
    return String(chars.filter { $0 != "_" })
  }
}

/// Python's `re.sub` on ICU regular expressions, for `regex_replace`.
enum PyRegex {
  static func sub(
    _ text: String, pattern: String, replacement: String, ignoreCase: Bool, multiline: Bool, count: Int
  ) throws(TemplateError) -> String {
    var options: NSRegularExpression.Options = []
    if ignoreCase { options.insert(.caseInsensitive) }
    if multiline { options.insert(.anchorsMatchLines) }
    let icu = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
      .replacingOccurrences(of: #"\(\?P=(\w+)\)"#, with: #"\\k<$1>"#, options: .regularExpression)
    guard let regex = try? NSRegularExpression(pattern: icu, options: options) else {
      throw Py.invalid("regex_replace: invalid regular expression \(Py.repr(.string(pattern)))")
    }
    let template = try self.template(replacement)
    let ns = text as NSString
    var matches = regex.matches(in: text, range: NSRange(location: 0, length: ns.length))
    if count > 0 { matches = Array(matches.prefix(count)) }
    var out = ""
    var at = 0
    for m in matches {
      out += ns.substring(with: NSRange(location: at, length: m.range.location - at))
      out += regex.replacementString(for: m, in: text, offset: 0, template: template)
      at = m.range.location + m.range.length
    }
    return out + ns.substring(from: at)
  }

  /// A Python replacement (`\1`, `\g<1>`, `\g<name>`, `\n`) as an ICU template (`$1`, `${name}`).
  private static func template(_ python: String) throws(TemplateError) -> String {
    var out = ""
    var chars = Array(python)[...]
    while let c = chars.popFirst() {
      switch c {
      case "$": out += "\\$"
      case "\\":
        guard let e = chars.popFirst() else { throw Py.invalid("regex_replace: a replacement ends with a backslash") }
        switch e {
        case "0"..."9":
          var group = String(e)
          if let d = chars.first, d.isASCII, d.isNumber { group.append(chars.removeFirst()) }
          out += "$" + group
        case "g":
          guard chars.first == "<", let close = chars.firstIndex(of: ">") else {
            throw Py.invalid("regex_replace: bad \\g<…> group reference")
          }
          let name = String(chars[chars.index(after: chars.startIndex)..<close])
          out += Int(name) != nil ? "$" + name : "${" + name + "}"
          chars = chars[chars.index(after: close)...]
        case "n": out += "\n"
        case "t": out += "\t"
        case "r": out += "\r"
        case "\\": out += "\\\\"
        default:
          guard !e.isLetter else { throw Py.invalid("regex_replace: bad escape \\\(e) in the replacement") }
          out += "\\\\" + (e == "$" ? "\\$" : String(e))
        }
      default: out.append(c)
      }
    }
    return out
  }
}

/// `json.dumps(value)` with Python's defaults, as Ansible's `to_json` filter calls it:
/// `", "` and `": "` separators, `ensure_ascii` on. Keys come in code-point order (dasprov's maps
/// do not keep insertion order).
enum PyJSONText {
  static func dumps(_ v: Value) -> String {
    var out = ""
    write(v, into: &out)
    return out
  }

  private static func write(_ v: Value, into out: inout String) {
    switch v {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d): out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : PyFormat.floatRepr(d)
    case .string(let s): JSONString.append(s, to: &out, asciiOnly: true)
    case .list(let items):
      out += "["
      for (n, item) in items.enumerated() {
        if n > 0 { out += ", " }
        write(item, into: &out)
      }
      out += "]"
    case .map(let m):
      out += "{"
      for (n, key) in PyFormat.sortedKeys(m.keys).enumerated() {
        if n > 0 { out += ", " }
        JSONString.append(key, to: &out, asciiOnly: true)
        out += ": "
        write(m[key]!, into: &out)
      }
      out += "}"
    }
  }
}
