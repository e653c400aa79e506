/// XML character escaping and its reverse: the one place dasprov spells `&amp;`, `&lt;` and the
/// rest. Templates, the byte-preserving XML editor, the secret masker and `--diff` all use it,
/// so a value escaped in one place reads back, and is masked, the same way in every other.
public enum XMLEscaping {
  /// How a quote character is written when it is escaped.
  public enum Reference: Sendable, Hashable {
    /// `&quot;`, `&apos;`
    case named
    /// `&#34;`, `&#39;`
    case numeric
  }

  /// Whitespace an XML parser would normalise away, so it is written as a character reference.
  public enum Whitespace: Sendable, Hashable {
    /// Written as it is.
    case kept
    /// CR as `&#13;`: line-end normalisation turns it into LF in text content.
    case carriageReturn
    /// Tab, LF and CR as `&#9;`, `&#10;`, `&#13;`: attribute-value normalisation turns them
    /// into spaces.
    case all
  }

  /// `s` with `&`, `<` and `>` escaped (`>` too, so `]]>` cannot appear), plus the quotes and
  /// whitespace asked for.
  public static func escape(
    _ s: String, doubleQuote: Reference? = nil, apostrophe: Reference? = nil, whitespace: Whitespace = .kept
  ) -> String {
    escape(s, doubleQuote: doubleQuote, apostrophe: apostrophe, whitespace: whitespace) { (scalar, out: inout String) in
      out.unicodeScalars.append(scalar)
    }
  }

  /// The same, with every scalar that needs no escaping handed to `other`, which appends it, a
  /// character reference for it (a file whose encoding cannot hold it), or throws (a scalar
  /// XML cannot represent at all).
  public static func escape<Failure: Error>(
    _ s: String, doubleQuote: Reference? = nil, apostrophe: Reference? = nil, whitespace: Whitespace = .kept,
    other: (Unicode.Scalar, inout String) throws(Failure) -> Void
  ) throws(Failure) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for scalar in s.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"" where doubleQuote != nil: out += doubleQuote == .named ? "&quot;" : "&#34;"
      case "'" where apostrophe != nil: out += apostrophe == .named ? "&apos;" : "&#39;"
      case "\r" where whitespace != .kept: out += "&#13;"
      case "\t" where whitespace == .all: out += "&#9;"
      case "\n" where whitespace == .all: out += "&#10;"
      default: try other(scalar, &out)
      }
    }
    return out
  }

  /// A value that is safe both as text content and inside an attribute of either quote: what a
  /// template inserts, since it cannot tell where the value lands.
  public static func value(_ s: String) -> String { escape(s, doubleQuote: .named, apostrophe: .named) }

  /// `s` with the five predefined entities and decimal or hex character references replaced by
  /// what they stand for. Anything else that starts with `&` stays as written, in one pass, so
  /// `&amp;lt;` reads back as `&lt;`.
  public static func unescape(_ s: String) -> String {
    guard s.contains("&") else { return s }
    var out = ""
    out.reserveCapacity(s.utf8.count)
    var rest = s[...]
    while let amp = rest.firstIndex(of: "&") {
      out += rest[..<amp]
      let afterAmp = rest.index(after: amp)
      // The longest reference is `&#x10FFFF;`: look no further than that for the `;`.
      if let semicolon = rest[afterAmp...].prefix(9).firstIndex(of: ";"),
        let scalar = referenced(rest[afterAmp..<semicolon])
      {
        out.unicodeScalars.append(scalar)
        rest = rest[rest.index(after: semicolon)...]
      } else {
        out.append("&")
        rest = rest[afterAmp...]
      }
    }
    out += rest
    return out
  }

  /// The scalar a reference's name (between `&` and `;`) stands for.
  private static func referenced(_ name: Substring) -> Unicode.Scalar? {
    switch name {
    case "amp": return "&"
    case "lt": return "<"
    case "gt": return ">"
    case "quot": return "\""
    case "apos": return "'"
    default:
      guard name.first == "#" else { return nil }
      let hex = name.dropFirst().first == "x" || name.dropFirst().first == "X"
      let digits = name.dropFirst(hex ? 2 : 1)
      guard !digits.isEmpty, digits.allSatisfy({ hex ? $0.isHexDigit : $0.isASCII && $0.isNumber }) else { return nil }
      let value = UInt32(digits, radix: hex ? 16 : 10)
      return value.flatMap(Unicode.Scalar.init)
    }
  }
}
