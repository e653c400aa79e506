/// Byte-level helpers over UTF-8 XML text that libxml2 has already accepted as well-formed.
///
/// libxml2 tells us *which* nodes to edit and roughly *where* their tags are; these scanners
/// find the exact bytes (attribute spans, quotes, line starts) so edits can be spliced in
/// without re-serialising anything.

/// XML's whitespace is exactly these four bytes (XML 1.0 §2.3 production S).
@inline(__always) func isXMLSpace(_ b: UInt8) -> Bool {
  b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
}

enum ASCII {
  static let lt = UInt8(ascii: "<"), gt = UInt8(ascii: ">"), slash = UInt8(ascii: "/")
  static let equals = UInt8(ascii: "="), quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'")
  static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, space: UInt8 = 0x20, tab: UInt8 = 0x09
  static let bang = UInt8(ascii: "!"), question = UInt8(ascii: "?"), dash = UInt8(ascii: "-")
  static let lbracket = UInt8(ascii: "["), rbracket = UInt8(ascii: "]")
}

/// One attribute as written in a start tag.
struct AttributeSpan: Hashable {
  /// The qualified name as written (`enable`, `svns:secretAlias`).
  var name: String
  /// Where the whitespace before the name starts, so removal takes the separator with it.
  var leadingStart: Int
  var nameStart: Int
  /// First byte of the value, after the opening quote.
  var valueStart: Int
  /// The closing quote.
  var valueEnd: Int
  var quote: UInt8
  var end: Int { valueEnd + 1 }
}

/// A start tag's layout: name, attributes, and where it closes.
struct StartTag: Hashable {
  var start: Int
  var name: String
  var attributes: [AttributeSpan]
  /// Just after the last attribute's closing quote (or the name): where a new attribute goes.
  var attributesEnd: Int
  /// The `/` of `/>`, or the `>`.
  var closeStart: Int
  /// Just after the `>`.
  var end: Int
  var selfClosing: Bool
}

enum TagScanner {
  /// Reads the start tag whose `<` is at `start`; `nil` if the bytes there are not one.
  static func startTag(in b: [UInt8], at start: Int) -> StartTag? {
    guard start < b.count, b[start] == ASCII.lt else { return nil }
    var i = start + 1
    let nameStart = i
    while i < b.count, !isXMLSpace(b[i]), b[i] != ASCII.slash, b[i] != ASCII.gt { i += 1 }
    guard i > nameStart, i < b.count else { return nil }
    let name = String(decoding: b[nameStart..<i], as: UTF8.self)
    var attributes: [AttributeSpan] = []
    var attributesEnd = i
    while true {
      let wsStart = i
      while i < b.count, isXMLSpace(b[i]) { i += 1 }
      guard i < b.count else { return nil }
      if b[i] == ASCII.gt {
        return StartTag(
          start: start, name: name, attributes: attributes, attributesEnd: attributesEnd,
          closeStart: i, end: i + 1, selfClosing: false)
      }
      if b[i] == ASCII.slash {
        guard i + 1 < b.count, b[i + 1] == ASCII.gt else { return nil }
        return StartTag(
          start: start, name: name, attributes: attributes, attributesEnd: attributesEnd,
          closeStart: i, end: i + 2, selfClosing: true)
      }
      guard i > wsStart else { return nil }  // attributes must be separated by whitespace
      let attrNameStart = i
      while i < b.count, !isXMLSpace(b[i]), b[i] != ASCII.equals { i += 1 }
      let attrNameEnd = i
      while i < b.count, isXMLSpace(b[i]) { i += 1 }
      guard i < b.count, b[i] == ASCII.equals else { return nil }
      i += 1
      while i < b.count, isXMLSpace(b[i]) { i += 1 }
      guard i < b.count, b[i] == ASCII.quote || b[i] == ASCII.apostrophe else { return nil }
      let quote = b[i]
      i += 1
      let valueStart = i
      while i < b.count, b[i] != quote { i += 1 }
      guard i < b.count else { return nil }
      attributes.append(
        AttributeSpan(
          name: String(decoding: b[attrNameStart..<attrNameEnd], as: UTF8.self),
          leadingStart: wsStart, nameStart: attrNameStart, valueStart: valueStart, valueEnd: i,
          quote: quote))
      i += 1
      attributesEnd = i
    }
  }

  /// True when `b[at...]` is `<` (or `</` when `closing`) followed by exactly `name`.
  static func tagNameMatches(_ b: [UInt8], at: Int, name: [UInt8], closing: Bool) -> Bool {
    var i = at
    guard i < b.count, b[i] == ASCII.lt else { return false }
    i += 1
    if closing {
      guard i < b.count, b[i] == ASCII.slash else { return false }
      i += 1
    }
    guard i + name.count < b.count, Array(b[i..<(i + name.count)]) == name else { return false }
    let after = b[i + name.count]
    return isXMLSpace(after) || after == ASCII.gt || after == ASCII.slash
  }
}

/// Line-oriented facts about a position, for indentation and whole-line removal.
enum Lines {
  /// The first byte of the line holding `offset`.
  static func lineStart(_ b: [UInt8], _ offset: Int) -> Int {
    var i = offset
    while i > 0, b[i - 1] != ASCII.lf, b[i - 1] != ASCII.cr { i -= 1 }
    return i
  }

  /// The whitespace the line holding `offset` starts with.
  static func leadingWhitespace(_ b: [UInt8], _ offset: Int) -> [UInt8] {
    var i = lineStart(b, offset)
    var ws: [UInt8] = []
    while i < b.count, b[i] == ASCII.space || b[i] == ASCII.tab {
      ws.append(b[i])
      i += 1
    }
    return ws
  }

  /// True when only spaces/tabs precede `offset` on its line.
  static func isFirstOnLine(_ b: [UInt8], _ offset: Int) -> Bool {
    let start = lineStart(b, offset)
    return b[start..<offset].allSatisfy { $0 == ASCII.space || $0 == ASCII.tab }
  }

  /// If only spaces/tabs follow `offset` up to a line break (or the end), the offset just
  /// past that line break; otherwise `nil`.
  static func restOfLineBlank(_ b: [UInt8], _ offset: Int) -> Int? {
    var i = offset
    while i < b.count, b[i] == ASCII.space || b[i] == ASCII.tab { i += 1 }
    if i == b.count { return i }
    if b[i] == ASCII.cr { return i + 1 < b.count && b[i + 1] == ASCII.lf ? i + 2 : i + 1 }
    if b[i] == ASCII.lf { return i + 1 }
    return nil
  }

  /// The file's line ending, taken from its first line break: `\r\n` keeps axis2.xml CRLF.
  static func lineEnding(_ b: [UInt8]) -> [UInt8] {
    guard let lf = b.firstIndex(of: ASCII.lf) else { return [ASCII.lf] }
    return lf > 0 && b[lf - 1] == ASCII.cr ? [ASCII.cr, ASCII.lf] : [ASCII.lf]
  }
}

/// A coarse tokenisation of markup into tags, comments, CDATA, PIs and text.
///
/// Used on fragments (text the caller rendered) to tell whitespace between tags, which can be
/// re-indented freely, from text, attribute values and comments, whose bytes carry meaning.
enum MarkupLexer {
  enum Kind: Equatable { case text, tag, comment, cdata, processingInstruction, declaration }
  struct Token: Equatable {
    var kind: Kind
    var range: Range<Int>
  }

  static func tokens(_ b: [UInt8]) -> [Token] {
    var out: [Token] = []
    var i = 0
    var textStart = 0
    func flushText(_ end: Int) {
      if end > textStart { out.append(Token(kind: .text, range: textStart..<end)) }
    }
    while i < b.count {
      guard b[i] == ASCII.lt else {
        i += 1
        continue
      }
      flushText(i)
      let (kind, end) = markupEnd(b, i)
      out.append(Token(kind: kind, range: i..<end))
      i = end
      textStart = end
    }
    flushText(b.count)
    return out
  }

  private static func hasPrefix(_ b: [UInt8], _ at: Int, _ p: String) -> Bool {
    let u = Array(p.utf8)
    return at + u.count <= b.count && Array(b[at..<(at + u.count)]) == u
  }

  private static func find(_ b: [UInt8], _ from: Int, _ s: String) -> Int? {
    let u = Array(s.utf8)
    var i = from
    while i + u.count <= b.count {
      if b[i] == u[0], Array(b[i..<(i + u.count)]) == u { return i + u.count }
      i += 1
    }
    return nil
  }

  private static func markupEnd(_ b: [UInt8], _ i: Int) -> (Kind, Int) {
    if hasPrefix(b, i, "<!--") { return (.comment, find(b, i + 4, "-->") ?? b.count) }
    if hasPrefix(b, i, "<![CDATA[") { return (.cdata, find(b, i + 9, "]]>") ?? b.count) }
    if hasPrefix(b, i, "<?") { return (.processingInstruction, find(b, i + 2, "?>") ?? b.count) }
    if hasPrefix(b, i, "<!") {
      // <!DOCTYPE … [ … ]>: the bracketed internal subset may hold `>`.
      return (.declaration, closingAngle(b, from: i + 2, brackets: true) ?? b.count)
    }
    // Start or end tag: `>` may appear inside quoted attribute values.
    return (.tag, closingAngle(b, from: i + 1, brackets: false) ?? b.count)
  }

  /// The index just past the `>` that closes markup, from `start` on: quoted strings are skipped,
  /// and with `brackets` (a DOCTYPE's internal subset) so is anything inside `[ … ]`.
  private static func closingAngle(_ b: [UInt8], from start: Int, brackets: Bool) -> Int? {
    var depth = 0
    var quote: UInt8? = nil
    var j = start
    while j < b.count {
      let c = b[j]
      if let q = quote {
        if c == q { quote = nil }
      } else if c == ASCII.quote || c == ASCII.apostrophe {
        quote = c
      } else if brackets && c == ASCII.lbracket {
        depth += 1
      } else if brackets && c == ASCII.rbracket {
        depth -= 1
      } else if c == ASCII.gt && depth <= 0 {
        return j + 1
      }
      j += 1
    }
    return nil
  }
}
