import DasprovCore

/// Text exactly as Python prints it, so `--list` output matches `ansible-inventory` byte for byte.
enum PyFormat {
  /// `repr(float)`: the shortest round-trip digits, in fixed notation for exponents -4 ..< 16 and
  /// in `1e+16` style otherwise.
  static func floatRepr(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    let (negative, digits, exponent) = shortestDigits(d)
    var out = negative ? "-" : ""
    if exponent < -4 || exponent >= 16 {
      out += String(digits.first!)
      if digits.count > 1 { out += "." + digits.dropFirst() }
      out += exponent < 0 ? "e-" : "e+"
      let e = String(abs(exponent))
      out += e.count < 2 ? "0" + e : e
    } else if exponent < 0 {
      out += "0." + String(repeating: "0", count: -exponent - 1) + digits
    } else if digits.count > exponent + 1 {
      let cut = digits.index(digits.startIndex, offsetBy: exponent + 1)
      out += digits[..<cut] + "." + digits[cut...]
    } else {
      out += digits + String(repeating: "0", count: exponent + 1 - digits.count) + ".0"
    }
    return out
  }

  /// `str(complex)`: `1j`, `(1+2j)`, `(-0-1j)`; parts print like floats without a `.0`.
  static func complexStr(_ re: Double, _ im: Double) -> String {
    func part(_ d: Double) -> String {
      let r = floatRepr(d)
      return r.hasSuffix(".0") ? String(r.dropLast(2)) : r
    }
    if re == 0, re.sign == .plus { return part(im) + "j" }
    let sign = (im.sign == .minus && !im.isNaN) ? "" : "+"
    return "(" + part(re) + sign + part(im) + "j)"
  }

  /// The significant digits of `d` (no leading/trailing zeros) and the decimal exponent of the
  /// first digit. Swift's `description` already finds the shortest round-trip digits.
  private static func shortestDigits(_ d: Double) -> (Bool, String, Int) {
    var text = abs(d).description
    let negative = d.sign == .minus
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      exponent = Int(text[text.index(after: e)...]) ?? 0
      text = String(text[..<e])
    }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    let intPart = String(parts[0])
    let fracPart = parts.count > 1 ? String(parts[1]) : ""
    var digits = intPart + fracPart
    // Position of the decimal point relative to the start of `digits`.
    var point = intPart.count + exponent
    while digits.hasPrefix("0") && digits.count > 1 {
      digits.removeFirst()
      point -= 1
    }
    while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
    if digits == "0" { return (negative, "0", 0) }
    return (negative, digits, point - 1)
  }

  // MARK: - JSON

  /// `json.dumps(value, sort_keys=True, indent=4)` as Ansible's encoder runs it: no trailing
  /// blanks after commas when indenting, `NaN`/`Infinity`, keys sorted by code point, and
  /// non-ASCII text written as is (Ansible turns `ensure_ascii` off).
  static func json(_ value: Value) -> String {
    var out = ""
    writeJSON(value, into: &out, indent: 0)
    return out
  }

  static func writeJSON(_ value: Value, into out: inout String, indent: Int) {
    switch value {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d):
      if d.isNaN {
        out += "NaN"
      } else if d.isInfinite {
        out += d < 0 ? "-Infinity" : "Infinity"
      } else {
        out += floatRepr(d)
      }
    case .string(let s): JSONString.append(s, to: &out)
    case .list(let items):
      if items.isEmpty { out += "[]"; return }
      out += "["
      let pad = padding(indent + 1)
      for (n, item) in items.enumerated() {
        out += n == 0 ? "\n" : ",\n"
        out += pad
        writeJSON(item, into: &out, indent: indent + 1)
      }
      out += "\n"
      out += padding(indent)
      out += "]"
    case .map(let m):
      if m.isEmpty { out += "{}"; return }
      out += "{"
      let pad = padding(indent + 1)
      for (n, entry) in m.sorted(by: { codePointLess($0.key, $1.key) }).enumerated() {
        out += n == 0 ? "\n" : ",\n"
        out += pad
        JSONString.append(entry.key, to: &out)
        out += ": "
        writeJSON(entry.value, into: &out, indent: indent + 1)
      }
      out += "\n"
      out += padding(indent)
      out += "}"
    }
  }

  private static let paddings = (0..<16).map { String(repeating: " ", count: $0 * 4) }

  private static func padding(_ level: Int) -> String {
    level < paddings.count ? paddings[level] : String(repeating: " ", count: level * 4)
  }

  /// Python sorts strings by code point; Swift's `<` compares canonical equivalents as equal.
  static func sortedKeys(_ keys: some Sequence<String>) -> [String] {
    keys.sorted { codePointLess($0, $1) }
  }

  /// UTF-8 byte order is code point order, so compare the bytes.
  static func codePointLess(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
  }
}
