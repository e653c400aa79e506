/// JSON string literals, written one way everywhere dasprov writes JSON: `--json` reports, the
/// secret masker's JSON form of a secret, `inventory --list`/`--host` (which must equal
/// ansible-inventory's bytes) and the inventory templates' `to_json` filter.
///
/// The escapes are Python's `json.dumps`: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other control
/// characters as `\u00XX` (lowercase hex), everything else as it is — what ansible-inventory
/// prints, since Ansible turns `ensure_ascii` off. `asciiOnly` is `ensure_ascii` on (Python's
/// default, so Ansible's `to_json` filter): every scalar outside space…`~` is `\uXXXX`, astral
/// ones as a UTF-16 surrogate pair.
public enum JSONString {
  /// `s` as a JSON string literal, quotes included.
  public static func quoted(_ s: String, asciiOnly: Bool = false) -> String {
    var out = ""
    append(s, to: &out, asciiOnly: asciiOnly)
    return out
  }

  /// Appends `s` as a JSON string literal, quotes included, to `out`.
  public static func append(_ s: String, to out: inout String, asciiOnly: Bool = false) {
    out += "\""
    // Most strings need no escape at all; copy them whole.
    if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || (asciiOnly && $0 > 0x7E) }) {
      out += s
      out += "\""
      return
    }
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      case _ where scalar.value < 0x20: hex4(scalar.value, into: &out)
      case _ where asciiOnly && scalar.value > 0x7E:
        for unit in String(scalar).utf16 { hex4(UInt32(unit), into: &out) }
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }

  /// The same, as UTF-8 bytes appended to `out` (the JSON writer's buffer).
  public static func append(_ s: String, to out: inout [UInt8], asciiOnly: Bool = false) {
    if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || (asciiOnly && $0 > 0x7E) }) {
      out.append(0x22)
      out.append(contentsOf: s.utf8)
      out.append(0x22)
      return
    }
    var text = ""
    append(s, to: &text, asciiOnly: asciiOnly)
    out.append(contentsOf: text.utf8)
  }

  private static let digits = Array("0123456789abcdef".unicodeScalars)

  private static func hex4(_ v: UInt32, into out: inout String) {
    out += "\\u"
    for shift in stride(from: 12, through: 0, by: -4) {
      out.unicodeScalars.append(digits[Int((v >> UInt32(shift)) & 0xF)])
    }
  }
}

extension String {
  /// This string as a JSON string literal, quotes included (`JSONString.quoted`).
  public var jsonQuoted: String { JSONString.quoted(self) }
}
