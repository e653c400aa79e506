import Testing

@testable import DasprovXML

/// Every kind of edit on every pristine DAS file: the bytes outside the edited element must
/// not move, a second run must change nothing, and the result must parse (libxml2 and xmllint).
@Suite struct PristineRoundTripTests {
  struct Element {
    var path: String
    /// `(//*)[n]`: selects the same element even after an edit changes its name key.
    var position: String
    var span: ElementSpan
    var hasChildren: Bool
    var attributes: [String]
    var text: String
    var isRoot: Bool
    var parentSpan: ElementSpan?
  }

  /// Every element of a file with its readable path, which must select exactly it.
  static func elements(_ bytes: [UInt8], _ name: String) throws -> [Element] {
    let doc = try ParsedXML(bytes: bytes, file: name)
    let tree = doc.tree
    return try DOM.elements(under: try #require(tree.root)).enumerated().map { index, node in
      Element(
        path: DOM.readablePath(node), position: "(//*)[\(index + 1)]",
        span: try tree.span(of: node),
        hasChildren: !DOM.elementChildren(node).isEmpty,
        attributes: DOM.attributes(node).map(DOM.qualifiedName), text: DOM.textContent(node),
        isRoot: DOM.parentElement(node) == nil,
        parentSpan: try DOM.parentElement(node).map { try tree.span(of: $0) })
    }
  }

  /// A spread of up to `limit` elements, so each file's beginning, middle and end are covered.
  static func sample(_ all: [Element], _ limit: Int = 12) -> [Element] {
    guard all.count > limit else { return all }
    return (0..<limit).map { all[$0 * (all.count - 1) / (limit - 1)] }
  }

  func lineRange(_ b: [UInt8], _ s: ElementSpan) -> Range<Int> {
    Lines.lineStart(b, s.start)..<(Lines.restOfLineBlank(b, s.end) ?? s.end)
  }

  @Test(arguments: Pack.files)
  func readablePathsSelectExactlyTheirElement(_ name: String) throws {
    let bytes = try Pack.bytes(name)
    let doc = try ParsedXML(bytes: bytes, file: name)
    for e in try Self.elements(bytes, name) {
      let found = try doc.tree.nodes(e.path)
      #expect(found.count == 1, "\(e.path)")
      #expect(try found.first.map { try doc.tree.span(of: $0) } == e.span, "\(e.path)")
    }
  }

  @Test(arguments: Pack.files)
  func noOperationsAndNoOpOperationsReturnTheExactInput(_ name: String) throws {
    let bytes = try Pack.bytes(name)
    let empty = try XMLEditor.apply([], to: bytes, file: name)
    #expect(empty.bytes == bytes && empty.changes.isEmpty)

    // Asking for what is already there, element by element, changes nothing at all.
    var ops: [XMLEditOperation] = []
    for e in try Self.elements(bytes, name) {
      if (try? ElementPath.parse(e.path, file: name)) != nil {
        ops.append(.ensureElement(path: e.path))
      }
      if !e.hasChildren { ops.append(.setText(xpath: e.path, value: e.text)) }
      let doc = try ParsedXML(bytes: bytes, file: name)
      for a in e.attributes {
        ops.append(
          .setAttribute(xpath: e.path, name: a, value: try doc.values("\(e.path)/@\(a)")[0]))
      }
      if !e.isRoot {
        let own = Array(bytes[e.span.range]).text
        ops.append(
          .ensureFragment(xpath: e.path, fragment: own, position: .appendTo(parentXPath: "/*")))
      }
    }
    let r = try XMLEditor.apply(ops, to: bytes, file: name)
    #expect(r.changes == [])
    #expect(r.bytes == bytes)
  }

  @Test(arguments: Pack.files)
  func setTextOnLeaves(_ name: String) throws {
    let bytes = try Pack.bytes(name)
    for e in Self.sample(try Self.elements(bytes, name).filter { !$0.hasChildren }) {
      let value = "dasprov <&> \"π\" \(e.span.start)"
      let r = try applyChecked(
        [.setText(xpath: e.position, value: value)], to: bytes, file: name, within: e.span.range)
      #expect(try ParsedXML(bytes: r.bytes, file: name).values(e.position) == [value])
      #expect(r.changes == [XMLChange(path: e.path, kind: .text, old: e.text, new: value)])
    }
  }

  @Test(arguments: Pack.files)
  func setAddAndRemoveAttributes(_ name: String) throws {
    let bytes = try Pack.bytes(name)
    for e in Self.sample(try Self.elements(bytes, name)) {
      let startTag = e.span.start..<e.span.startTagEnd
      let added = try applyChecked(
        [.setAttribute(xpath: e.path, name: "dasprov", value: "a<b&c\"d'")], to: bytes, file: name,
        within: startTag)
      #expect(
        try ParsedXML(bytes: added.bytes, file: name).values("\(e.path)/@dasprov") == ["a<b&c\"d'"])
      if let a = e.attributes.first {
        try applyChecked(
          [.setAttribute(xpath: e.position, name: a, value: "changed")], to: bytes, file: name,
          within: startTag)
        let removed = try applyChecked(
          [.removeAttribute(xpath: e.position, name: a)], to: bytes, file: name, within: startTag)
        #expect(try ParsedXML(bytes: removed.bytes, file: name).count("\(e.position)/@\(a)") == 0)
      }
    }
  }

  @Test(arguments: Pack.files)
  func ensureElementUnderElements(_ name: String) async throws {
    let bytes = try Pack.bytes(name)
    for e in Self.sample(try Self.elements(bytes, name))
    where e.path.allSatisfy({ $0 != "(" }) && !e.path.contains("]/") && !e.path.hasSuffix("]")
      || e.path.hasSuffix("']")
    {
      guard (try? ElementPath.parse(e.path, file: name)) != nil else { continue }
      let path = e.path + "/dasprovNew[@k='v'][name='n']/leaf"
      let r = try applyChecked(
        [.ensureElement(path: path)], to: bytes, file: name, within: e.span.range)
      #expect(try ParsedXML(bytes: r.bytes, file: name).count(path) == 1)
      #expect(try await XMLLint.parses(r.bytes))
    }
  }

  @Test(arguments: Pack.files)
  func ensureFragmentInsertsAndReplaces(_ name: String) async throws {
    let bytes = try Pack.bytes(name)
    let fragment = "<dasprovFragment a=\"1\">\n    <x>y &amp; z</x>\n</dasprovFragment>"
    for e in Self.sample(try Self.elements(bytes, name)) {
      let xpath = "//dasprovFragment"
      try applyChecked(
        [
          .ensureFragment(
            xpath: xpath, fragment: fragment, position: .appendTo(parentXPath: e.path))
        ],
        to: bytes, file: name, within: e.span.range)
      guard let parent = e.parentSpan else { continue }
      for position in [FragmentPosition.after(xpath: e.path), .before(xpath: e.path)] {
        let r = try applyChecked(
          [.ensureFragment(xpath: xpath, fragment: fragment, position: position)], to: bytes,
          file: name,
          within: parent.range)
        #expect(
          try ParsedXML(bytes: r.bytes, file: name).values("//dasprovFragment/x") == ["y & z"])
      }
      // Replacing the element with a different one (here: an extra attribute, so its path still
      // selects it) touches only it.
      let own = Array(bytes[e.span.range])
      let nameEnd = 1 + e.span.name.utf8.count
      let replacement =
        (Array(own[..<nameEnd]) + Array(" dasprov=\"replaced\"".utf8) + Array(own[nameEnd...])).text
      let r = try applyChecked(
        [
          .ensureFragment(
            xpath: e.path, fragment: replacement, position: .appendTo(parentXPath: "/*"))
        ],
        to: bytes, file: name, within: e.span.range)
      #expect(r.changes.map(\.kind) == [.replaced])
      #expect(try await XMLLint.parses(r.bytes))
    }
  }

  @Test(arguments: Pack.files)
  func setChildrenOfParents(_ name: String) throws {
    let bytes = try Pack.bytes(name)
    for e in Self.sample(try Self.elements(bytes, name).filter(\.hasChildren), 6) {
      let r = try applyChecked(
        [
          .setChildren(
            xpath: e.position, fragment: "<m><h>10.0.0.1</h></m>\n<m><h>10.0.0.2</h></m>")
        ], to: bytes,
        file: name, within: e.span.range)
      #expect(
        try ParsedXML(bytes: r.bytes, file: name).values("\(e.position)/m/h") == [
          "10.0.0.1", "10.0.0.2",
        ])
    }
  }

  @Test(arguments: Pack.files)
  func removeElements(_ name: String) throws {
    let bytes = try Pack.bytes(name)
    // A positional path such as Action[1] selects the next sibling once the first is gone, so
    // removing by position is not idempotent by nature; sample named elements.
    let named = try Self.elements(bytes, name).filter {
      !$0.isRoot && !$0.path.contains(where: \.isNumber)
    }
    for e in Self.sample(named) {
      let r = try applyChecked(
        [.remove(xpath: e.path)], to: bytes, file: name, within: lineRange(bytes, e.span))
      #expect(r.changes.map(\.kind) == [.removed])
      #expect(r.bytes.count < bytes.count)
    }
  }
}
