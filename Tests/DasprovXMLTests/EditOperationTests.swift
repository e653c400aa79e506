import Testing

@testable import DasprovXML

/// The operations on text, attributes and removal, and their sequencing, on small documents,
/// with the exact bytes expected (structural insertions: StructureEditTests).
@Suite struct SetTextTests {
  func edit(_ xml: String, _ ops: [XMLEditOperation]) throws -> XMLEditResult {
    try applyChecked(ops, to: Array(xml.utf8), file: "t.xml", within: nil)
  }

  @Test func replacesOnlyTheText() throws {
    let r = try edit(
      "<a>\n  <b>old</b> <!-- keep -->\n</a>\n", [.setText(xpath: "/a/b", value: "new")])
    #expect(r.bytes.text == "<a>\n  <b>new</b> <!-- keep -->\n</a>\n")
    #expect(r.changes == [XMLChange(path: "/a/b", kind: .text, old: "old", new: "new")])
    #expect(r.changes[0].description == "/a/b: 'old' → 'new'")
  }

  @Test func opensSelfClosingAndEmptyElements() throws {
    #expect(
      try edit("<a><b/></a>", [.setText(xpath: "/a/b", value: "v")]).bytes.text == "<a><b>v</b></a>"
    )
    #expect(
      try edit("<a><b x='1' /></a>", [.setText(xpath: "/a/b", value: "v")]).bytes.text
        == "<a><b x='1'>v</b></a>")
    #expect(
      try edit("<a><b></b></a>", [.setText(xpath: "/a/b", value: "v")]).bytes.text
        == "<a><b>v</b></a>")
  }

  @Test func equalTextIsNoChangeAndKeepsTheInputBytes() throws {
    let input = Array("<a>\r\n<b>same</b>\r\n</a>".utf8)
    let r = try XMLEditor.apply([.setText(xpath: "/a/b", value: "same")], to: input, file: "t.xml")
    #expect(r.changes.isEmpty)
    #expect(r.bytes == input)
  }

  @Test func setsEveryMatchAndAttributesWhenSelected() throws {
    let r = try edit(
      "<a><p name='1'>x</p><p name='2'>y</p><q/><q/></a>",
      [
        .setText(xpath: "/a/p", value: "z"), .setText(xpath: "/a/p[2]/@name", value: "3"),
        .setText(xpath: "/a/q[2]", value: "w"),
      ])
    #expect(r.bytes.text == "<a><p name='1'>z</p><p name='3'>z</p><q/><q>w</q></a>")
    #expect(
      r.changes.map(\.path) == [
        "/a/p[@name='1']", "/a/p[@name='2']", "/a/p[@name='2']/@name", "/a/q[2]",
      ])
  }

  @Test func cdataAndCharacterReferencesCompareByValue() throws {
    let input = Array("<a><b><![CDATA[x<y]]></b><c>&#65;</c></a>".utf8)
    let r = try XMLEditor.apply(
      [.setText(xpath: "/a/b", value: "x<y"), .setText(xpath: "/a/c", value: "A")], to: input,
      file: "t.xml")
    #expect(r.changes.isEmpty)
  }

  @Test func refusesToDeleteChildElements() throws {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.setText(xpath: "/a", value: "v")], to: Array("<a><b/></a>".utf8), file: "t.xml")
    }
    #expect(e?.kind == .unsupported)
    #expect(e?.message.contains("/a has child elements") == true)
  }
}

@Suite struct AttributeTests {
  func edit(_ xml: String, _ ops: [XMLEditOperation]) throws -> String {
    try applyChecked(ops, to: Array(xml.utf8), file: "t.xml", within: nil).bytes.text
  }

  @Test func keepsQuoteStyleAndEscapesTheQuote() throws {
    #expect(
      try edit("<a x='1' y=\"2\"/>", [.setAttribute(xpath: "/a", name: "x", value: "it's")])
        == "<a x='it&apos;s' y=\"2\"/>")
    #expect(
      try edit("<a x='1' y=\"2\"/>", [.setAttribute(xpath: "/a", name: "y", value: "say \"hi\"")])
        == "<a x='1' y=\"say &quot;hi&quot;\"/>")
  }

  @Test func addsAfterTheLastAttributeInTheTagsQuoteStyle() throws {
    #expect(try edit("<a/>", [.setAttribute(xpath: "/a", name: "n", value: "v")]) == "<a n=\"v\"/>")
    #expect(
      try edit("<a >t</a>", [.setAttribute(xpath: "/a", name: "n", value: "v")])
        == "<a n=\"v\" >t</a>")
    #expect(
      try edit("<a x='1'\n   />", [.setAttribute(xpath: "/a", name: "n", value: "v")])
        == "<a x='1' n='v'\n   />")
  }

  @Test func multiLineStartTagKeepsItsLayout() throws {
    let xml =
      "<r>\r\n    <clustering class=\"c\"\r\n                enable=\"false\">\r\n    </clustering>\r\n</r>"
    let out = try edit(xml, [.setAttribute(xpath: "/r/clustering", name: "enable", value: "true")])
    #expect(out == xml.replacingOccurrences(of: "\"false\"", with: "\"true\""))
  }

  @Test func removesWithTheSeparatingWhitespace() throws {
    #expect(
      try edit("<a x='1' y='2' z='3'/>", [.removeAttribute(xpath: "/a", name: "y")])
        == "<a x='1' z='3'/>")
    #expect(
      try edit("<a x='1'\n   y='2'>t</a>", [.removeAttribute(xpath: "/a", name: "y")])
        == "<a x='1'>t</a>")
    #expect(
      try edit("<a><b x='1'/><b/></a>", [.removeAttribute(xpath: "//b", name: "x")])
        == "<a><b/><b/></a>")
  }

  @Test func removingAnAbsentAttributeOrElementIsNoChange() throws {
    let input = Array("<a x='1'/>".utf8)
    let r = try XMLEditor.apply(
      [
        .removeAttribute(xpath: "/a", name: "nope"), .removeAttribute(xpath: "/zz", name: "x"),
        .remove(xpath: "/a/b"),
      ],
      to: input, file: "t.xml")
    #expect(r.changes.isEmpty && r.bytes == input)
  }

  @Test func prefixedAttributeNames() throws {
    let xml = "<a xmlns:s='urn:s'><p s:alias='old'/></a>"
    #expect(
      try edit(xml, [.setAttribute(xpath: "/a/p", name: "s:alias", value: "new")])
        == "<a xmlns:s='urn:s'><p s:alias='new'/></a>")
    #expect(
      try edit(xml, [.setText(xpath: "/a/p/@s:alias", value: "v")])
        == "<a xmlns:s='urn:s'><p s:alias='v'/></a>")
  }

  @Test func rejectsNamespaceDeclarationsAndBadNames() {
    for name in ["xmlns", "xmlns:x", "a b", "", "a=\"b"] {
      #expect(throws: XMLError.self) {
        try XMLEditor.apply(
          [.setAttribute(xpath: "/a", name: name, value: "v")], to: Array("<a/>".utf8),
          file: "t.xml")
      }
    }
  }

  @Test func setAttributeNeedsAMatch() {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.setAttribute(xpath: "/a/b", name: "x", value: "v")], to: Array("<a/>".utf8), file: "t.xml"
      )
    }
    #expect(e?.kind == .noMatch)
  }
}

@Suite struct RemoveTests {
  @Test func removesTheElementsLine() throws {
    let r = try applyChecked(
      [.remove(xpath: "/a/b")],
      to: Array("<a>\r\n  <b>\r\n    <c/>\r\n  </b>\r\n  <d/>\r\n</a>".utf8), file: "t.xml",
      within: nil)
    #expect(r.bytes.text == "<a>\r\n  <d/>\r\n</a>")
    #expect(
      r.changes == [XMLChange(path: "/a/b", kind: .removed, old: "<b>\r\n    <c/>\r\n  </b>")])
  }

  @Test func sharedLineKeepsItsNeighbours() throws {
    let r = try applyChecked(
      [.remove(xpath: "/a/b")], to: Array("<a>\n  <b/> <!-- why -->\n</a>".utf8), file: "t.xml",
      within: nil)
    #expect(r.bytes.text == "<a>\n   <!-- why -->\n</a>")
  }

  @Test func nestedMatchesAndAttributes() throws {
    let r = try applyChecked(
      [.remove(xpath: "//b | //c | /a/@x")], to: Array("<a x='1'><b><c/></b><c/></a>".utf8),
      file: "t.xml", within: nil)
    #expect(r.bytes.text == "<a></a>")
  }

  @Test func attributesOfRemovedElementsGoWithThem() throws {
    let r = try applyChecked(
      [.remove(xpath: "//b | //b/@x | /a/@y")], to: Array("<a y='1'><b x='1'/></a>".utf8),
      file: "t.xml", within: nil)
    #expect(r.bytes.text == "<a></a>")
    #expect(r.changes.map(\.path) == ["/a/b", "/a/@y"])
  }

  @Test func rootCannotBeRemoved() {
    #expect(throws: XMLError.self) {
      try XMLEditor.apply([.remove(xpath: "/a")], to: Array("<a/>".utf8), file: "t.xml")
    }
  }
}

@Suite struct SequencingTests {
  @Test func laterOperationsSeeEarlierResults() throws {
    let r = try applyChecked(
      [
        .ensureElement(path: "/r/dbConfig[@name='gov']/dataSource"),
        .setText(xpath: "/r/dbConfig[@name='gov']/dataSource", value: "jdbc/WSO2REG_DB"),
        .setAttribute(xpath: "/r/dbConfig[@name='gov']", name: "x", value: "1"),
      ], to: Array("<r>\n  <a/>\n</r>".utf8), file: "t.xml", within: nil)
    #expect(
      r.bytes.text
        == "<r>\n  <a/>\n  <dbConfig name=\"gov\" x=\"1\">\n    <dataSource>jdbc/WSO2REG_DB</dataSource>\n  </dbConfig>\n</r>"
    )
    #expect(r.changes.map(\.kind) == [.inserted, .text, .attribute])
  }

  @Test func errorsNameTheOperation() {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.setText(xpath: "/r/a", value: "1"), .setText(xpath: "/r/missing", value: "2")],
        to: Array("<r><a/></r>".utf8), file: "conf/t.xml")
    }
    #expect(e?.operationIndex == 1)
    #expect(
      e?.description
        == "conf/t.xml: xpath '/r/missing' matched nothing; set text needs an existing element (ensure element can create it)"
    )
  }
}
