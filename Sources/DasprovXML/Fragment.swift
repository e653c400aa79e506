internal import CLibXML2

/// XML text the caller rendered (from a template) for `ensureFragment` / `setChildren`,
/// checked for well-formedness and reduced to canonical form before anything is spliced.
struct Fragment {
  /// The fragment without surrounding whitespace, escaped to the target file's encoding.
  let bytes: [UInt8]
  /// Its top-level elements, for comparison with what the file holds.
  let elements: [CanonicalElement]

  /// The element the parse wraps fragments in, so several top-level elements parse as one document.
  private static let wrapper = "dasprov-fragment"

  /// - Parameter prefixes: the target document's prefix bindings, declared on the wrapper so a
  ///   fragment may use them (`svns:secretAlias`) as the file around it would.
  init(
    _ text: String, label: String, encoding: DeclaredEncoding, namespaces: [String: String],
    prefixes: [(prefix: String, uri: String)]
  ) throws(XMLError) {
    var b = Array(text.utf8)
    while let f = b.first, isXMLSpace(f) { b.removeFirst() }
    while let l = b.last, isXMLSpace(l) { b.removeLast() }
    if b.starts(with: Array("<?xml".utf8)) {
      throw XMLError(.malformed, file: label, "a fragment must not start with an XML declaration")
    }
    b = try Self.representable(b, encoding: encoding, label: label)

    var head = "<\(Self.wrapper)"
    for (prefix, uri) in prefixes {
      let quoted = try Escape.attribute(uri, quote: ASCII.quote, maxScalar: 0x10FFFF, file: label)
      head += " xmlns:\(prefix)=\"\(quoted)\""
    }
    head += ">"
    let prefix = Array(head.utf8)
    let wrapped = prefix + b + Array("</\(Self.wrapper)>".utf8)
    let parsed: SpannedDocument
    do {
      parsed = try SpannedDocument(bytes: wrapped, file: label, namespaces: namespaces)
    } catch {
      var e = error
      // The wrapper shares line 1 with the fragment; report columns in the fragment's terms.
      if e.line == 1, let c = e.column { e.column = max(1, c - prefix.count) }
      throw e
    }
    guard let root = parsed.root else {
      throw XMLError(.malformed, file: label, "the fragment has no elements")
    }
    for child in DOM.children(root) {
      let t = child.pointee.type
      if t == XML_TEXT_NODE || t == XML_CDATA_SECTION_NODE,
        !DOM.textContent(child).utf8.allSatisfy(isXMLSpace)
      {
        throw XMLError(.malformed, file: label, "the fragment has text outside its elements")
      }
    }
    self.bytes = b
    self.elements = DOM.elementChildren(root).map(DOM.canonical)
  }

  /// Characters the file's encoding cannot hold become character references in text and
  /// attribute values; elsewhere (names, comments, CDATA) they cannot be written at all.
  private static func representable(_ b: [UInt8], encoding: DeclaredEncoding, label: String)
    throws(XMLError) -> [UInt8]
  {
    guard encoding != .utf8, b.contains(where: { $0 >= 0x80 }) else { return b }
    var out: [UInt8] = []
    for token in MarkupLexer.tokens(b) {
      let piece = Array(b[token.range])
      let s = String(decoding: piece, as: UTF8.self)
      guard s.unicodeScalars.contains(where: { $0.value > encoding.maxScalar }) else {
        out += piece
        continue
      }
      guard token.kind == .text || token.kind == .tag else {
        throw XMLError(
          .unsupportedEncoding, file: label,
          "the fragment has characters the file's encoding cannot hold inside a comment, CDATA or PI"
        )
      }
      for scalar in s.unicodeScalars {
        if scalar.value > encoding.maxScalar {
          out += Array("&#x\(String(scalar.value, radix: 16, uppercase: true));".utf8)
        } else {
          out += Array(String(scalar).utf8)
        }
      }
    }
    return out
  }

  /// The fragment laid out for its place in the file: its own indentation, less what all its
  /// lines share, follows `base`, each of its indentation levels becomes one `unit` of the
  /// file's, and line breaks become the file's. Only whitespace between tags (and between
  /// attributes) is re-indented; text, attribute values, comments and CDATA keep their bytes,
  /// so the fragment reads back exactly as given.
  static func render(_ b: [UInt8], base: [UInt8], unit: [UInt8], eol: [UInt8]) -> [UInt8] {
    let tokens = MarkupLexer.tokens(b)
    // Offsets of line breaks whose following whitespace is layout, not content.
    var layoutBreaks: Set<Int> = []
    // Of those, the breaks between tags (not inside one), which show the fragment's levels.
    var levelBreaks: [Int] = []
    for token in tokens {
      switch token.kind {
      case .text where b[token.range].allSatisfy(isXMLSpace):
        for i in token.range where b[i] == ASCII.lf || b[i] == ASCII.cr {
          layoutBreaks.insert(i)
          levelBreaks.append(i)
        }
      case .tag:
        var quote: UInt8? = nil
        for i in token.range {
          let c = b[i]
          if let q = quote {
            if c == q { quote = nil }
          } else if c == ASCII.quote || c == ASCII.apostrophe {
            quote = c
          } else if c == ASCII.lf || c == ASCII.cr {
            layoutBreaks.insert(i)
          }
        }
      default:
        break
      }
    }

    func indentation(after i: Int) -> ArraySlice<UInt8> {
      var j = i
      while j < b.count, b[j] == ASCII.space || b[j] == ASCII.tab { j += 1 }
      return b[i..<j]
    }
    func isBreak(_ i: Int) -> Bool { b[i] == ASCII.lf || b[i] == ASCII.cr }

    // The indentation every non-blank layout line shares is the fragment's own margin.
    var margin: [UInt8]? = nil
    for i in layoutBreaks.sorted()
    where !(b[i] == ASCII.cr && i + 1 < b.count && b[i + 1] == ASCII.lf) {
      let ind = indentation(after: i + 1)
      if ind.endIndex < b.count, isBreak(ind.endIndex) { continue }  // blank line
      if let m = margin {
        margin = Array(zip(m, ind).prefix { $0 == $1 }.map(\.0))
      } else {
        margin = Array(ind)
      }
    }
    let marginCount = margin?.count ?? 0

    // The fragment's own level: its smallest indentation beyond the margin (a tab, two spaces).
    var ownUnit: [UInt8]? = nil
    for i in levelBreaks {
      let ind = indentation(after: i + 1).dropFirst(marginCount)
      if !ind.isEmpty, ind.count < (ownUnit?.count ?? Int.max) { ownUnit = Array(ind) }
    }
    /// Whole levels of the fragment's unit become levels of the file's; anything else (such as
    /// attributes aligned under each other) is kept as written.
    func relayout(_ ind: ArraySlice<UInt8>) -> [UInt8] {
      guard let own = ownUnit, own != unit, ind.count % own.count == 0 else { return Array(ind) }
      var levels = 0
      var j = ind.startIndex
      while j < ind.endIndex {
        guard Array(ind[j..<(j + own.count)]) == own else { return Array(ind) }
        levels += 1
        j += own.count
      }
      return Array(repeating: unit, count: levels).flatMap { $0 }
    }

    var out: [UInt8] = []
    out.reserveCapacity(b.count + b.count / 4)
    var i = 0
    while i < b.count {
      let c = b[i]
      guard c == ASCII.lf || c == ASCII.cr else {
        out.append(c)
        i += 1
        continue
      }
      let breakEnd = (c == ASCII.cr && i + 1 < b.count && b[i + 1] == ASCII.lf) ? i + 2 : i + 1
      let layout = layoutBreaks.contains(i)
      out += eol
      i = breakEnd
      guard layout else { continue }
      let ind = indentation(after: i)
      i = ind.endIndex
      if i < b.count, isBreak(i) { continue }  // blank lines carry no indentation
      out += base
      out += relayout(ind.dropFirst(min(marginCount, ind.count)))
    }
    return out
  }
}
