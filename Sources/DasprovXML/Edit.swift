internal import CLibXML2

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
  func elements(_ xpath: String, required: String?) throws(XMLError) -> [xmlNodePtr] {
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
  func single(_ xpath: String, _ role: String) throws(XMLError) -> xmlNodePtr {
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
}
