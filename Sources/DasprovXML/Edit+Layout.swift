internal import CLibXML2

/// Where new markup goes and how it is indented, learnt from the file itself: one level of
/// indentation, a new child's line, and the splice that puts an element after, before or
/// inside another on a line of its own.
extension Edit {
  /// `offset` moved back over whitespace, but not before `limit`.
  func trimmedBack(_ offset: Int, notBefore limit: Int) -> Int {
    var i = offset
    while i > limit, isXMLSpace(bytes[i - 1]) { i -= 1 }
    return i
  }

  /// One level of indentation: what this parent's children add to its own, else what the
  /// file uses most, else four spaces.
  func indentUnit(under parent: xmlNodePtr) -> [UInt8] {
    if let unit = try? unitBetween(parent, DOM.elementChildren(parent)) { return unit }
    var counts: [[UInt8]: Int] = [:]
    if let root = document.root {
      for element in DOM.elements(under: root) {
        if let unit = try? unitBetween(element, DOM.elementChildren(element)) {
          counts[unit, default: 0] += 1
        }
      }
    }
    return counts.max { ($0.value, $1.key.count) < ($1.value, $0.key.count) }?.key
      ?? Array("    ".utf8)
  }

  private func unitBetween(_ parent: xmlNodePtr, _ children: [xmlNodePtr]) throws -> [UInt8]? {
    let p = try document.span(of: parent).start
    guard Lines.isFirstOnLine(bytes, p) else { return nil }
    let outer = Lines.leadingWhitespace(bytes, p)
    for child in children {
      let c = try document.span(of: child).start
      guard Lines.isFirstOnLine(bytes, c) else { continue }
      let inner = Lines.leadingWhitespace(bytes, c)
      if inner.count > outer.count, inner.starts(with: outer) {
        return Array(inner.dropFirst(outer.count))
      }
    }
    return nil
  }

  /// The indentation level next to `anchor`: its own children's, else its parent's.
  private func siblingUnit(_ anchor: xmlNodePtr) -> [UInt8] {
    if let unit = try? unitBetween(anchor, DOM.elementChildren(anchor)) { return unit }
    return indentUnit(under: DOM.parentElement(anchor) ?? anchor)
  }

  /// Where a new child's line starts: like its last sibling on a line of its own, else one
  /// level in from the parent.
  func childIndent(of parent: xmlNodePtr) -> [UInt8] {
    for child in DOM.elementChildren(parent).reversed() {
      if let start = try? document.span(of: child).start, Lines.isFirstOnLine(bytes, start) {
        return Lines.leadingWhitespace(bytes, start)
      }
    }
    let start = (try? document.span(of: parent).start) ?? 0
    return Lines.leadingWhitespace(bytes, start) + indentUnit(under: parent)
  }

  /// Inserts `xml` as the last child of `parent`, after any trailing comment, on its own line.
  /// Returns the splice and where the new element's `<` sits inside its replacement.
  func appendChild(_ xml: [UInt8], to parent: xmlNodePtr) throws(XMLError) -> (Splice, Int)
  {
    let span = try document.span(of: parent)
    let parentIndent = Lines.leadingWhitespace(bytes, span.start)
    let indent = childIndent(of: parent)
    let rendered = Fragment.render(xml, base: indent, unit: indentUnit(under: parent), eol: eol)
    let lead = eol + indent
    if span.selfClosing {
      // <parent/> opens up: <parent>⏎  new⏎</parent>
      let tag = try document.startTag(of: parent)
      let cut = trimmedBack(tag.closeStart, notBefore: tag.attributesEnd)
      let replacement =
        [ASCII.gt] + lead + rendered + eol + parentIndent + Array("</\(span.name)>".utf8)
      return (Splice(range: cut..<span.end, replacement: replacement), 1 + lead.count)
    }
    let content = span.content
    let lastContent = content.last { !isXMLSpace(bytes[$0]) }
    let at = lastContent.map { $0 + 1 } ?? content.lowerBound
    let trailing = bytes[at..<content.upperBound]
    if trailing.contains(ASCII.lf) || trailing.contains(ASCII.cr) {
      // The end tag already sits on its own line: the new line goes just before that break.
      return (Splice(range: at..<at, replacement: lead + rendered), lead.count)
    }
    let replacement = lead + rendered + eol + parentIndent
    return (Splice(range: at..<content.upperBound, replacement: replacement), lead.count)
  }

  func insert(_ xml: [UInt8], after anchor: xmlNodePtr) throws(XMLError) -> (Splice, Int) {
    let span = try document.span(of: anchor)
    let indent = Lines.leadingWhitespace(bytes, span.start)
    let rendered = Fragment.render(xml, base: indent, unit: siblingUnit(anchor), eol: eol)
    let lead = eol + indent
    return (Splice(range: span.end..<span.end, replacement: lead + rendered), lead.count)
  }

  func insert(_ xml: [UInt8], before anchor: xmlNodePtr) throws(XMLError) -> (Splice, Int) {
    let span = try document.span(of: anchor)
    let indent = Lines.leadingWhitespace(bytes, span.start)
    let rendered = Fragment.render(xml, base: indent, unit: siblingUnit(anchor), eol: eol)
    if Lines.isFirstOnLine(bytes, span.start) {
      // A line of its own above the anchor's line.
      let lineStart = Lines.lineStart(bytes, span.start)
      return (
        Splice(range: lineStart..<lineStart, replacement: indent + rendered + eol), indent.count
      )
    }
    return (Splice(range: span.start..<span.start, replacement: rendered + eol + indent), 0)
  }
}

extension String {
  var trimmingXMLSpace: String {
    let u = Array(utf8)
    guard let first = u.firstIndex(where: { !isXMLSpace($0) }),
      let last = u.lastIndex(where: { !isXMLSpace($0) })
    else { return "" }
    return String(decoding: u[first...last], as: UTF8.self)
  }
}
