internal import CLibXML2

/// Operations that add elements: the missing steps of a simple path, a fragment at an anchor,
/// and a parent's whole list of children.
extension Edit {
  func ensureElement(_ text: String, into plan: inout EditPlan) throws(XMLError) {
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
  func render(_ steps: [ElementPath.Step], unit: [UInt8]) throws(XMLError) -> [UInt8] {
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

  func ensureFragment(
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

  func setChildren(xpath: String, text: String, into plan: inout EditPlan) throws(XMLError)
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
}
