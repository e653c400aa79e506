internal import CLibXML2

/// Applies `XMLEditOperation`s by splicing bytes into the original text.
///
/// libxml2 finds the nodes (XPath over its DOM); the SAX pass that built that DOM recorded
/// where each element's tags are; each edit then replaces only the bytes that must change.
/// The document is never re-serialised, so everything the operations do not touch — comments,
/// indentation, attribute order and quotes, CRLF, the XML declaration — keeps its exact bytes.
public enum XMLEditor {
  /// Applies `operations` in order; each sees the bytes the previous ones produced.
  ///
  /// - Parameters:
  ///   - file: the name used in errors (the remote path is a good choice).
  ///   - namespaces: prefix → URI bindings for prefixed XPaths. Default namespaces are
  ///     ignored by XPath unless a prefix here is bound to their URI.
  /// - Returns: the new bytes and the changes; no changes means the input bytes unchanged.
  public static func apply(
    _ operations: [XMLEditOperation], to original: [UInt8], file: String,
    namespaces: [String: String] = [:]
  ) throws(XMLError) -> XMLEditResult {
    let encoding = try DeclaredEncoding.detect(original, file: file)
    var document = try SpannedDocument(
      bytes: encoding.decode(original), file: file, namespaces: namespaces)
    var changes: [XMLChange] = []
    for (index, operation) in operations.enumerated() {
      do throws(XMLError) {
        let editor = Edit(
          document: document, encoding: encoding, namespaces: namespaces, operation: index)
        let plan = try editor.plan(operation)
        guard !plan.splices.isEmpty else { continue }
        let (bytes, shift) = try Splice.apply(plan.splices, to: document.bytes, file: file)
        let next: SpannedDocument
        do throws(XMLError) {
          next = try SpannedDocument(bytes: bytes, file: file, namespaces: namespaces)
        } catch {
          throw XMLError(
            .internal, file: file, "the edit produced XML that does not parse: \(error.message)")
        }
        try plan.check?(next)
        for pending in plan.changes {
          var change = pending.change
          if let (spliceStart, inside) = pending.insertedAt,
            let node = next.element(startingAt: shift(spliceStart) + inside)
          {
            change.path = DOM.readablePath(node)
          }
          changes.append(change)
        }
        document = next
      } catch {
        var e = error
        if e.operationIndex == nil { e.operationIndex = index }
        throw e
      }
    }
    if changes.isEmpty { return XMLEditResult(bytes: original, changes: []) }
    return XMLEditResult(bytes: try encoding.encode(document.bytes, file: file), changes: changes)
  }
}

/// Replace `range` of the old bytes with `replacement`.
struct Splice {
  var range: Range<Int>
  var replacement: [UInt8]

  /// Applies non-overlapping splices; also returns where each old offset that starts a splice
  /// (or is untouched) ends up in the new bytes.
  static func apply(_ splices: [Splice], to b: [UInt8], file: String) throws(XMLError) -> (
    [UInt8], (Int) -> Int
  ) {
    let sorted = splices.sorted {
      ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound)
    }
    var out: [UInt8] = []
    out.reserveCapacity(b.count + sorted.reduce(0) { $0 + $1.replacement.count })
    var cursor = 0
    for s in sorted {
      guard s.range.lowerBound >= cursor, s.range.upperBound <= b.count else {
        throw XMLError(.internal, file: file, "overlapping edits at offset \(s.range.lowerBound)")
      }
      out += b[cursor..<s.range.lowerBound]
      out += s.replacement
      cursor = s.range.upperBound
    }
    out += b[cursor...]
    let shift: (Int) -> Int = { offset in
      var delta = 0
      for s in sorted where s.range.lowerBound < offset {
        delta += s.replacement.count - s.range.count
      }
      return offset + delta
    }
    return (out, shift)
  }
}

/// What one operation will do: splices, the changes to report, and a check on the result.
struct EditPlan {
  struct Pending {
    var change: XMLChange
    /// For insertions: the splice's start in the old bytes and the new element's `<` inside
    /// the replacement, resolved to a readable path once the result is parsed.
    var insertedAt: (spliceStart: Int, inside: Int)?
  }

  var splices: [Splice] = []
  var changes: [Pending] = []
  var check: ((SpannedDocument) throws(XMLError) -> Void)?

  mutating func add(_ splice: Splice, _ change: XMLChange, inserted inside: Int? = nil) {
    splices.append(splice)
    changes.append(
      Pending(change: change, insertedAt: inside.map { (splice.range.lowerBound, $0) }))
  }
}

/// Plans one operation against one parse of the document.
struct Edit {
  let document: SpannedDocument
  let encoding: DeclaredEncoding
  let namespaces: [String: String]
  let operation: Int

  var bytes: [UInt8] { document.bytes }
  var file: String { document.file }
  var eol: [UInt8] { Lines.lineEnding(bytes) }

  func plan(_ op: XMLEditOperation) throws(XMLError) -> EditPlan {
    var plan = EditPlan()
    switch op {
    case .setText(let xpath, let value):
      try setText(xpath: xpath, value: value, into: &plan)
    case .setAttribute(let xpath, let name, let value):
      try checkAttributeName(name)
      for element in try elements(xpath, required: "set attribute") {
        try setAttribute(element, name: name, value: value, into: &plan)
      }
    case .removeAttribute(let xpath, let name):
      try checkAttributeName(name)
      for element in try elements(xpath, required: nil) {
        try removeAttribute(element, name: name, into: &plan)
      }
    case .ensureElement(let path):
      try ensureElement(path, into: &plan)
    case .ensureFragment(let xpath, let fragment, let position):
      try ensureFragment(xpath: xpath, text: fragment, position: position, into: &plan)
    case .setChildren(let xpath, let fragment):
      try setChildren(xpath: xpath, text: fragment, into: &plan)
    case .remove(let xpath):
      try remove(xpath: xpath, into: &plan)
    }
    return plan
  }

  // MARK: Selecting

  private func noMatch(_ xpath: String, _ what: String) -> XMLError {
    XMLError(.noMatch, file: file, "xpath '\(xpath)' matched nothing; \(what)", xpath: xpath)
  }

  /// The elements `xpath` selects; selecting anything else is an error, and so is selecting
  /// nothing when `required` names the operation that needs a match.
  private func elements(_ xpath: String, required: String?) throws(XMLError) -> [xmlNodePtr] {
    let nodes = try document.nodes(xpath)
    if nodes.isEmpty, let required {
      throw noMatch(xpath, "\(required) needs an existing element")
    }
    for n in nodes where !DOM.isElement(n) {
      throw XMLError(
        .invalidXPath, file: file,
        "xpath '\(xpath)' selects \(DOM.readablePath(n)), which is not an element", xpath: xpath)
    }
    return nodes
  }

  /// Exactly one element, for anchors and replacements.
  private func single(_ xpath: String, _ role: String) throws(XMLError) -> xmlNodePtr {
    let found = try elements(xpath, required: role)
    guard found.count == 1 else {
      throw XMLError(
        .ambiguous, file: file,
        "xpath '\(xpath)' matched \(found.count) elements; \(role) needs exactly one "
          + "(add a predicate such as [@name='…'] or [last()])", xpath: xpath)
    }
    return found[0]
  }

  // MARK: Text and attributes

  private func setText(xpath: String, value: String, into plan: inout EditPlan) throws(XMLError) {
    let nodes = try document.nodes(xpath)
    guard !nodes.isEmpty else {
      throw noMatch(xpath, "set text needs an existing element (ensure element can create it)")
    }
    var done: Set<UnsafeMutableRawPointer> = []
    for node in nodes {
      if DOM.isAttribute(node) {
        guard let owner = node.pointee.parent else { continue }
        try setAttribute(owner, name: DOM.qualifiedName(node), value: value, into: &plan)
        continue
      }
      var element = node
      let type = node.pointee.type
      if type == XML_TEXT_NODE || type == XML_CDATA_SECTION_NODE, let p = node.pointee.parent {
        element = p
      }
      guard DOM.isElement(element) else {
        throw XMLError(
          .invalidXPath, file: file,
          "xpath '\(xpath)' selects \(DOM.readablePath(node)); set text needs elements or attributes",
          xpath: xpath)
      }
      guard done.insert(UnsafeMutableRawPointer(element)).inserted else { continue }
      guard DOM.elementChildren(element).isEmpty else {
        throw XMLError(
          .unsupported, file: file,
          "\(DOM.readablePath(element)) has child elements, which set text would delete "
            + "(use set children or ensure fragment)", xpath: xpath)
      }
      let current = DOM.textContent(element)
      guard current != value else { continue }
      let span = try document.span(of: element)
      let escaped = Array(try Escape.text(value, maxScalar: encoding.maxScalar, file: file).utf8)
      let change = XMLChange(path: DOM.readablePath(element), kind: .text, old: current, new: value)
      if span.selfClosing {
        // <a/> becomes <a>value</a>; whitespace before the "/>" goes with it.
        let tag = try document.startTag(of: element)
        let cut = trimmedBack(tag.closeStart, notBefore: tag.attributesEnd)
        let replacement = [ASCII.gt] + escaped + Array("</\(span.name)>".utf8)
        plan.add(Splice(range: cut..<span.end, replacement: replacement), change)
      } else {
        plan.add(Splice(range: span.content, replacement: escaped), change)
      }
    }
  }

  private func checkAttributeName(_ name: String) throws(XMLError) {
    let forbidden: Set<Character> = [" ", "\t", "\n", "\r", "<", ">", "&", "\"", "'", "=", "/"]
    guard !name.isEmpty, !name.contains(where: forbidden.contains), name != "xmlns",
      !name.hasPrefix("xmlns:")
    else {
      throw XMLError(
        .unsupported, file: file, "'\(name)' is not an attribute name this edit can set")
    }
  }

  private func setAttribute(
    _ element: xmlNodePtr, name: String, value: String, into plan: inout EditPlan
  ) throws(XMLError) {
    let tag = try document.startTag(of: element)
    let path = DOM.readablePath(element) + "/@" + name
    if let attr = tag.attributes.first(where: { $0.name == name }) {
      let current =
        DOM.attribute(element, named: name).map(DOM.value)
        ?? String(decoding: bytes[attr.valueStart..<attr.valueEnd], as: UTF8.self)
      guard current != value else { return }
      let escaped = try Escape.attribute(
        value, quote: attr.quote, maxScalar: encoding.maxScalar, file: file)
      plan.add(
        Splice(range: attr.valueStart..<attr.valueEnd, replacement: Array(escaped.utf8)),
        XMLChange(path: path, kind: .attribute, old: current, new: value))
    } else {
      // A new attribute follows the last one, in the quote style the tag already uses.
      let quote = tag.attributes.first?.quote ?? ASCII.quote
      let escaped = try Escape.attribute(
        value, quote: quote, maxScalar: encoding.maxScalar, file: file)
      let q = String(UnicodeScalar(quote))
      plan.add(
        Splice(
          range: tag.attributesEnd..<tag.attributesEnd,
          replacement: Array(" \(name)=\(q)\(escaped)\(q)".utf8)),
        XMLChange(path: path, kind: .attribute, old: nil, new: value))
    }
  }

  private func removeAttribute(_ element: xmlNodePtr, name: String, into plan: inout EditPlan)
    throws(XMLError)
  {
    let tag = try document.startTag(of: element)
    guard let attr = tag.attributes.first(where: { $0.name == name }) else { return }
    let current =
      DOM.attribute(element, named: name).map(DOM.value)
      ?? String(decoding: bytes[attr.valueStart..<attr.valueEnd], as: UTF8.self)
    plan.add(
      Splice(range: attr.leadingStart..<attr.end, replacement: []),
      XMLChange(
        path: DOM.readablePath(element) + "/@" + name, kind: .attribute, old: current, new: nil))
  }

  // MARK: Removing

  private func remove(xpath: String, into plan: inout EditPlan) throws(XMLError) {
    var ranges: [(Range<Int>, xmlNodePtr)] = []
    var attributes: [xmlNodePtr] = []
    for node in try document.nodes(xpath) {
      if DOM.isAttribute(node) {
        attributes.append(node)
        continue
      }
      guard DOM.isElement(node) else {
        throw XMLError(
          .invalidXPath, file: file,
          "xpath '\(xpath)' selects \(DOM.readablePath(node)); remove needs elements or attributes",
          xpath: xpath)
      }
      guard DOM.parentElement(node) != nil else {
        throw XMLError(.unsupported, file: file, "the root element cannot be removed", xpath: xpath)
      }
      ranges.append(((try document.span(of: node)).range, node))
    }
    // A selected descendant of a selected element goes with its ancestor.
    var kept: [Range<Int>] = []
    for (range, node) in ranges.sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) {
      guard range.lowerBound >= (kept.last?.upperBound ?? 0) else { continue }
      kept.append(range)
      var cut = range
      if Lines.isFirstOnLine(bytes, range.lowerBound),
        let lineEnd = Lines.restOfLineBlank(bytes, range.upperBound)
      {
        cut = Lines.lineStart(bytes, range.lowerBound)..<lineEnd
      }
      plan.add(
        Splice(range: cut, replacement: []),
        XMLChange(
          path: DOM.readablePath(node), kind: .removed,
          old: String(decoding: bytes[range], as: UTF8.self)))
    }
    // So does a selected attribute of a removed element.
    for attribute in attributes {
      guard let owner = attribute.pointee.parent else { continue }
      let start = try document.span(of: owner).start
      guard !kept.contains(where: { $0.contains(start) }) else { continue }
      try removeAttribute(owner, name: DOM.qualifiedName(attribute), into: &plan)
    }
  }

  // MARK: Creating

  private func ensureElement(_ text: String, into plan: inout EditPlan) throws(XMLError) {
    let path = try ElementPath.parse(text, file: file)
    guard let root = document.root, let first = path.steps.first else { return }
    guard try !document.nodes("/" + first.xpath).isEmpty else {
      let rootName = DOM.qualifiedName(root)
      throw XMLError(
        .noMatch, file: file,
        "element path '\(text)' starts at '\(first.xpath)', but the document root is <\(rootName)>",
        xpath: text)
    }
    var current = root
    for (i, step) in path.steps.enumerated().dropFirst() {
      if let found = try document.nodes(step.xpath, at: current).first(where: DOM.isElement) {
        current = found
        continue
      }
      let unit = indentUnit(under: current)
      let xml = try render(Array(path.steps[i...]), unit: unit)
      let (splice, at) = try appendChild(xml, to: current)
      plan.add(
        splice,
        XMLChange(
          path: DOM.readablePath(current) + "/" + step.xpath, kind: .inserted,
          new: String(decoding: xml, as: UTF8.self)), inserted: at)
      let file = self.file
      plan.check = { (next: SpannedDocument) throws(XMLError) in
        guard try !next.nodes(path.xpath).isEmpty else {
          throw XMLError(
            .notIdempotent, file: file,
            "element path '\(text)' still matches nothing after creating it", xpath: text)
        }
      }
      return
    }
  }

  /// The missing steps as nested XML, one level of `unit` per step.
  private func render(_ steps: [ElementPath.Step], unit: [UInt8]) throws(XMLError) -> [UInt8] {
    guard let step = steps.first else { return [] }
    let limit = encoding.maxScalar
    var out = "<\(step.name)"
    for a in step.attributes {
      let value = try Escape.attribute(a.value, quote: ASCII.quote, maxScalar: limit, file: file)
      out += " \(a.name)=\"\(value)\""
    }
    var lines: [[UInt8]] = []
    for c in step.children {
      let text = try Escape.text(c.value, maxScalar: limit, file: file)
      lines.append(Array("<\(c.name)>\(text)</\(c.name)>".utf8))
    }
    if steps.count > 1 { lines.append(try render(Array(steps.dropFirst()), unit: unit)) }
    guard !lines.isEmpty else { return Array((out + "/>").utf8) }
    var result = Array((out + ">").utf8)
    for line in lines {
      result += [ASCII.lf] + unit
      // Nested lines move one level in with their parent.
      for b in line {
        result.append(b)
        if b == ASCII.lf { result += unit }
      }
    }
    result += [ASCII.lf] + Array("</\(step.name)>".utf8)
    return result
  }

  private func fragment(_ text: String) throws(XMLError) -> Fragment {
    let prefixes = document.root.map { DOM.declaredPrefixes(under: $0) } ?? []
    return try Fragment(
      text, label: "\(file) (fragment of operation \(operation + 1))", encoding: encoding,
      namespaces: namespaces, prefixes: prefixes)
  }

  private func ensureFragment(
    xpath: String, text: String, position: FragmentPosition, into plan: inout EditPlan
  ) throws(XMLError) {
    let fragment = try self.fragment(text)
    guard fragment.elements.count == 1, let wanted = fragment.elements.first else {
      throw XMLError(
        .malformed, file: file,
        "ensure fragment needs exactly one element; the fragment has \(fragment.elements.count)")
    }
    let found = try elements(xpath, required: nil)
    if found.count > 1 {
      throw XMLError(
        .ambiguous, file: file,
        "xpath '\(xpath)' matched \(found.count) elements; ensure fragment needs at most one",
        xpath: xpath)
    }
    if let existing = found.first {
      guard DOM.canonical(existing) != wanted else { return }
      let span = try document.span(of: existing)
      let rendered = Fragment.render(
        fragment.bytes, base: Lines.leadingWhitespace(bytes, span.start),
        unit: indentUnit(under: DOM.parentElement(existing) ?? existing), eol: eol)
      plan.add(
        Splice(range: span.range, replacement: rendered),
        XMLChange(
          path: DOM.readablePath(existing), kind: .replaced,
          old: String(decoding: bytes[span.range], as: UTF8.self),
          new: String(decoding: rendered, as: UTF8.self)))
    } else {
      let splice: Splice
      let at: Int
      let parentPath: String
      switch position {
      case .appendTo(let parentXPath):
        let parent = try single(parentXPath, "the parent of an ensured fragment")
        (splice, at) = try appendChild(fragment.bytes, to: parent)
        parentPath = DOM.readablePath(parent)
      case .after(let anchorXPath):
        let anchor = try sibling(anchorXPath)
        (splice, at) = try insert(fragment.bytes, after: anchor)
        parentPath = DOM.parentElement(anchor).map(DOM.readablePath) ?? ""
      case .before(let anchorXPath):
        let anchor = try sibling(anchorXPath)
        (splice, at) = try insert(fragment.bytes, before: anchor)
        parentPath = DOM.parentElement(anchor).map(DOM.readablePath) ?? ""
      }
      let inserted = splice.replacement
      plan.add(
        splice,
        XMLChange(
          path: parentPath + "/" + wanted.name, kind: .inserted,
          new: String(decoding: inserted, as: UTF8.self).trimmingXMLSpace), inserted: at)
    }
    // Whether inserted or replaced, the xpath must now select exactly the fragment; otherwise
    // the next run would insert (or replace) it again.
    let file = self.file
    plan.check = { (next: SpannedDocument) throws(XMLError) in
      let now = try next.nodes(xpath).filter(DOM.isElement)
      guard now.count == 1, DOM.canonical(now[0]) == wanted else {
        let found = now.count == 1 ? "an element that differs from it" : "\(now.count) elements"
        throw XMLError(
          .notIdempotent, file: file,
          "after writing the fragment, xpath '\(xpath)' selects \(found) instead of the fragment; "
            + "every run would write it again", xpath: xpath)
      }
    }
  }

  private func sibling(_ xpath: String) throws(XMLError) -> xmlNodePtr {
    let anchor = try single(xpath, "the anchor of an ensured fragment")
    guard DOM.parentElement(anchor) != nil else {
      throw XMLError(
        .unsupported, file: file, "cannot insert next to the root element", xpath: xpath)
    }
    return anchor
  }

  private func setChildren(xpath: String, text: String, into plan: inout EditPlan) throws(XMLError)
  {
    let fragment = try self.fragment(text)
    let targets = try elements(xpath, required: "set children")
    let spans = try targets.map { (t: xmlNodePtr) throws(XMLError) in try document.span(of: t) }
    for (i, outer) in spans.enumerated() {
      for inner in spans[(i + 1)...] where outer.range.contains(inner.start) {
        throw XMLError(
          .ambiguous, file: file,
          "xpath '\(xpath)' selects <\(inner.name)> inside <\(outer.name)>; set children "
            + "needs elements that do not contain each other", xpath: xpath)
      }
    }
    for target in targets {
      let kids = DOM.elementChildren(target)
      guard kids.map(DOM.canonical) != fragment.elements else { continue }
      let path = DOM.readablePath(target)
      guard let firstKid = kids.first, let lastKid = kids.last else {
        let (splice, _) = try appendChild(fragment.bytes, to: target)
        plan.add(
          splice,
          XMLChange(
            path: path, kind: .replaced, old: "",
            new: String(decoding: fragment.bytes, as: UTF8.self)))
        continue
      }
      let first = try document.span(of: firstKid)
      let last = try document.span(of: lastKid)
      let old = String(decoding: bytes[first.start..<last.end], as: UTF8.self)
      if fragment.bytes.isEmpty {
        let contentStart = try document.span(of: target).startTagEnd
        let cut = trimmedBack(first.start, notBefore: contentStart)
        plan.add(
          Splice(range: cut..<last.end, replacement: []),
          XMLChange(path: path, kind: .replaced, old: old, new: ""))
      } else {
        let base =
          Lines.isFirstOnLine(bytes, first.start)
          ? Lines.leadingWhitespace(bytes, first.start) : childIndent(of: target)
        let rendered = Fragment.render(
          fragment.bytes, base: base, unit: indentUnit(under: target), eol: eol)
        plan.add(
          Splice(range: first.start..<last.end, replacement: rendered),
          XMLChange(
            path: path, kind: .replaced, old: old, new: String(decoding: rendered, as: UTF8.self)))
      }
    }
  }

  // MARK: Layout

  /// `offset` moved back over whitespace, but not before `limit`.
  private func trimmedBack(_ offset: Int, notBefore limit: Int) -> Int {
    var i = offset
    while i > limit, isXMLSpace(bytes[i - 1]) { i -= 1 }
    return i
  }

  /// One level of indentation: what this parent's children add to its own, else what the
  /// file uses most, else four spaces.
  private func indentUnit(under parent: xmlNodePtr) -> [UInt8] {
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
  private func childIndent(of parent: xmlNodePtr) -> [UInt8] {
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
  private func appendChild(_ xml: [UInt8], to parent: xmlNodePtr) throws(XMLError) -> (Splice, Int)
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

  private func insert(_ xml: [UInt8], after anchor: xmlNodePtr) throws(XMLError) -> (Splice, Int) {
    let span = try document.span(of: anchor)
    let indent = Lines.leadingWhitespace(bytes, span.start)
    let rendered = Fragment.render(xml, base: indent, unit: siblingUnit(anchor), eol: eol)
    let lead = eol + indent
    return (Splice(range: span.end..<span.end, replacement: lead + rendered), lead.count)
  }

  private func insert(_ xml: [UInt8], before anchor: xmlNodePtr) throws(XMLError) -> (Splice, Int) {
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
