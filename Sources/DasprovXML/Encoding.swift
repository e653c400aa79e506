import DasprovCore

/// The encoding a file declares, and the lossless mapping to the UTF-8 bytes libxml2 parses.
///
/// libxml2 converts non-UTF-8 input into a separate buffer, which makes its offsets drift from
/// the file's bytes. So ISO-8859-1 files are widened to UTF-8 here (each byte one scalar, a
/// bijection), parsed and edited as UTF-8 with `XML_PARSE_IGNORE_ENC`, and narrowed back:
/// untouched bytes come back exactly, and new text is escaped to what the encoding can hold.
enum DeclaredEncoding: Sendable, Equatable {
  case utf8
  case latin1
  case ascii

  /// The highest scalar the encoding can store; values beyond it are written as `&#x…;`.
  var maxScalar: UInt32 {
    switch self {
    case .utf8: return 0x10FFFF
    case .latin1: return 0xFF
    case .ascii: return 0x7F
    }
  }

  static func detect(_ b: [UInt8], file: String) throws(XMLError) -> DeclaredEncoding {
    if b.starts(with: [0xEF, 0xBB, 0xBF]) { return .utf8 }
    if b.starts(with: [0xFE, 0xFF]) || b.starts(with: [0xFF, 0xFE])
      || b.starts(with: [0x00, 0x3C]) || b.starts(with: [0x3C, 0x00])
    {
      throw XMLError(
        .unsupportedEncoding, file: file,
        "UTF-16/UTF-32 files cannot be edited byte-for-byte; only UTF-8, ISO-8859-1 and US-ASCII")
    }
    guard let label = declaredLabel(b) else { return .utf8 }
    switch label.lowercased() {
    case "utf-8", "utf8": return .utf8
    case "iso-8859-1", "iso_8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso-latin-1",
      "iso-ir-100", "cp819", "ibm819":
      return .latin1
    case "us-ascii", "ascii", "iso646-us": return .ascii
    default:
      throw XMLError(
        .unsupportedEncoding, file: file,
        "declared encoding '\(label)' is not supported; only UTF-8, ISO-8859-1 and US-ASCII")
    }
  }

  /// The `encoding="…"` of the XML declaration, if the file starts with one.
  private static func declaredLabel(_ b: [UInt8]) -> String? {
    guard b.starts(with: Array("<?xml".utf8)) else { return nil }
    let limit = min(b.count, 512)
    guard
      let end = (0..<limit).first(where: { $0 + 1 < limit && b[$0] == 0x3F && b[$0 + 1] == 0x3E })
    else { return nil }
    let decl = String(decoding: b[0..<end], as: UTF8.self)
    guard let range = decl.range(of: "encoding") else { return nil }
    var rest = decl[range.upperBound...].drop {
      $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n"
    }
    guard rest.first == "=" else { return nil }
    rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
    guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
    rest = rest.dropFirst()
    guard let close = rest.firstIndex(of: quote) else { return nil }
    return String(rest[..<close])
  }

  /// The UTF-8 bytes libxml2 will parse. ASCII-declared files are widened like Latin-1, so
  /// even a stray high byte comes back unchanged.
  func decode(_ b: [UInt8]) -> [UInt8] {
    guard self != .utf8, b.contains(where: { $0 >= 0x80 }) else { return b }
    var out: [UInt8] = []
    out.reserveCapacity(b.count + b.count / 8)
    for byte in b {
      if byte < 0x80 {
        out.append(byte)
      } else {
        out.append(0xC0 | (byte >> 6))
        out.append(0x80 | (byte & 0x3F))
      }
    }
    return out
  }

  /// Back to the file's encoding. Only scalars the encoding holds reach here (new text is
  /// escaped first); anything else is reported rather than silently mangled.
  func encode(_ b: [UInt8], file: String) throws(XMLError) -> [UInt8] {
    guard self != .utf8, b.contains(where: { $0 >= 0x80 }) else { return b }
    var out: [UInt8] = []
    out.reserveCapacity(b.count)
    for scalar in String(decoding: b, as: UTF8.self).unicodeScalars {
      guard scalar.value <= 0xFF else {
        throw XMLError(
          .unsupportedEncoding, file: file,
          "U+\(String(scalar.value, radix: 16, uppercase: true)) cannot be written to an "
            + "ISO-8859-1 file outside text or attribute values")
      }
      out.append(UInt8(scalar.value))
    }
    return out
  }
}

/// Escaping for values spliced into XML, so a parser reads back exactly the value given: the
/// shared `XMLEscaping`, with the file's encoding deciding how other characters are written.
enum Escape {
  /// Text content: `&`, `<`, `>`, and CR, which line-end normalisation would turn into LF.
  static func text(_ s: String, maxScalar: UInt32, file: String) throws(XMLError) -> String {
    try XMLEscaping.escape(s, whitespace: .carriageReturn) { (scalar, out: inout String) throws(XMLError) in
      try append(scalar, to: &out, maxScalar: maxScalar, file: file)
    }
  }

  /// Attribute values: as text, plus the quote that delimits this value, and tab/LF/CR, which
  /// attribute-value normalisation would turn into spaces.
  static func attribute(_ s: String, quote: UInt8, maxScalar: UInt32, file: String)
    throws(XMLError) -> String
  {
    try XMLEscaping.escape(
      s, doubleQuote: quote == ASCII.quote ? .named : nil, apostrophe: quote == ASCII.apostrophe ? .named : nil,
      whitespace: .all
    ) { (scalar, out: inout String) throws(XMLError) in
      try append(scalar, to: &out, maxScalar: maxScalar, file: file)
    }
  }

  private static func append(
    _ scalar: Unicode.Scalar, to out: inout String, maxScalar: UInt32, file: String
  ) throws(XMLError) {
    let v = scalar.value
    let allowed =
      v == 0x9 || v == 0xA || v == 0xD || (0x20...0xD7FF).contains(v)
      || (0xE000...0xFFFD).contains(v) || (0x10000...0x10FFFF).contains(v)
    guard allowed else {
      throw XMLError(
        .unsupported, file: file,
        "U+\(String(v, radix: 16, uppercase: true)) cannot be represented in XML 1.0")
    }
    if v > maxScalar {
      out += "&#x\(String(v, radix: 16, uppercase: true));"
    } else {
      out.unicodeScalars.append(scalar)
    }
  }
}
