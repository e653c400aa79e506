import Testing

@testable import DasprovXML

/// The operations that add structure — missing elements, fragments, whole child lists — on
/// small documents, with the exact bytes expected.
@Suite struct EnsureElementTests {
  func edit(_ xml: String, _ path: String) throws -> XMLEditResult {
    try applyChecked([.ensureElement(path: path)], to: Array(xml.utf8), file: "t.xml", within: nil)
  }

  @Test func createsMissingPartsIndentedLikeSiblings() throws {
    let xml =
      "<r>\n\n    <dbConfig name=\"wso2registry\">\n        <dataSource>x</dataSource>\n    </dbConfig>\n    <!-- tail -->\n</r>\n"
    let r = try edit(xml, "/r/dbConfig[@name='govregistry']/dataSource")
    #expect(
      r.bytes.text
        == "<r>\n\n    <dbConfig name=\"wso2registry\">\n        <dataSource>x</dataSource>\n    </dbConfig>\n    <!-- tail -->\n    <dbConfig name=\"govregistry\">\n        <dataSource/>\n    </dbConfig>\n</r>\n"
    )
    #expect(
      r.changes == [
        XMLChange(
          path: "/r/dbConfig[@name='govregistry']", kind: .inserted,
          new: "<dbConfig name=\"govregistry\">\n    <dataSource/>\n</dbConfig>")
      ])
  }

  @Test func existingPathIsNoChange() throws {
    let input = Array("<r><a name='x'><b/></a></r>".utf8)
    let r = try XMLEditor.apply(
      [.ensureElement(path: "/r/a[@name='x']/b")], to: input, file: "t.xml")
    #expect(r.changes.isEmpty && r.bytes == input)
  }

  @Test func childTextPredicatesBecomeChildren() throws {
    let r = try edit(
      "<r>\n  <ds>\n    <name>A</name>\n  </ds>\n</r>", "/r/ds[name='B' and @type=\"RDBMS\"]/url")
    #expect(
      r.bytes.text
        == "<r>\n  <ds>\n    <name>A</name>\n  </ds>\n  <ds type=\"RDBMS\">\n    <name>B</name>\n    <url/>\n  </ds>\n</r>"
    )
  }

  @Test func opensASelfClosingParentAndUsesCRLF() throws {
    let r = try edit("<r>\r\n  <a/>\r\n</r>\r\n", "/r/a/b")
    #expect(r.bytes.text == "<r>\r\n  <a>\r\n    <b/>\r\n  </a>\r\n</r>\r\n")
  }

  @Test func emptyParentOnOneLine() throws {
    #expect(
      try edit("<r>\n  <a></a>\n</r>", "/r/a/b").bytes.text == "<r>\n  <a>\n    <b/>\n  </a>\n</r>")
  }

  @Test func unrepresentablePredicateValueIsAnError() {
    // libxml2's XPath parser refuses it before the escaper would.
    #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.ensureElement(path: "/r/p[@v='\u{1}']")], to: Array("<r/>".utf8), file: "t.xml")
    }
  }

  @Test func escapesPredicateValues() throws {
    let r = try edit("<r/>", "/r/p[@v='a<b&c\"d']")
    #expect(try ParsedXML(bytes: r.bytes, file: "t").values("/r/p/@v") == ["a<b&c\"d"])
  }

  @Test(arguments: [
    "r/a", "//a", "/r//a", "/r/a/", "/r/a[1]", "/r/a[@x>'1']", "/r/a[@x='1' or @y='2']",
    "/r/a[@x=1]", "/r/*",
  ])
  func rejectsPathsItCannotCreate(_ path: String) {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply([.ensureElement(path: path)], to: Array("<r/>".utf8), file: "t.xml")
    }
    #expect(e?.kind == .invalidPath)
    #expect(e?.xpath == path)
  }

  @Test func wrongRootIsAnError() {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply([.ensureElement(path: "/x/a")], to: Array("<r/>".utf8), file: "t.xml")
    }
    #expect(e?.kind == .noMatch)
  }
}

@Suite struct EnsureFragmentTests {
  let xml =
    "<r>\n    <a name=\"1\">\n        <v>1</v>\n    </a>\n\n    <!-- c -->\n    <z/>\n</r>\n"
  let fragment = "<a name=\"2\">\n  <v>2</v>\n</a>"

  func edit(_ ops: [XMLEditOperation], in xml: String? = nil) throws -> XMLEditResult {
    try applyChecked(ops, to: Array((xml ?? self.xml).utf8), file: "t.xml", within: nil)
  }

  @Test func insertsAfter() throws {
    let r = try edit([
      .ensureFragment(
        xpath: "/r/a[@name='2']", fragment: fragment, position: .after(xpath: "/r/a[@name='1']"))
    ])
    #expect(
      r.bytes.text
        == "<r>\n    <a name=\"1\">\n        <v>1</v>\n    </a>\n    <a name=\"2\">\n        <v>2</v>\n    </a>\n\n    <!-- c -->\n    <z/>\n</r>\n"
    )
    #expect(r.changes.map(\.path) == ["/r/a[@name='2']"])
    #expect(r.changes[0].kind == .inserted)
  }

  @Test func insertsBefore() throws {
    let r = try edit([
      .ensureFragment(
        xpath: "/r/a[@name='2']", fragment: fragment, position: .before(xpath: "/r/z"))
    ])
    #expect(
      r.bytes.text
        == "<r>\n    <a name=\"1\">\n        <v>1</v>\n    </a>\n\n    <!-- c -->\n    <a name=\"2\">\n        <v>2</v>\n    </a>\n    <z/>\n</r>\n"
    )
  }

  @Test func appendsToParent() throws {
    let r = try edit([
      .ensureFragment(
        xpath: "/r/a[@name='2']", fragment: fragment, position: .appendTo(parentXPath: "/r"))
    ])
    #expect(
      r.bytes.text.hasSuffix("    <z/>\n    <a name=\"2\">\n        <v>2</v>\n    </a>\n</r>\n"))
  }

  @Test func replacesWhenDifferentAndIgnoresLayoutAndComments() throws {
    let replaced = try edit([
      .ensureFragment(
        xpath: "/r/a[@name='1']", fragment: "<a name=\"1\"><v>9</v></a>",
        position: .appendTo(parentXPath: "/r"))
    ])
    #expect(
      replaced.bytes.text
        == xml.replacingOccurrences(
          of: "<a name=\"1\">\n        <v>1</v>\n    </a>", with: "<a name=\"1\"><v>9</v></a>"))
    #expect(replaced.changes.map(\.kind) == [.replaced])

    let same = try XMLEditor.apply(
      [
        .ensureFragment(
          xpath: "/r/a[@name='1']", fragment: "<a   name='1'><!-- x --><v>1</v>\n\n</a>",
          position: .appendTo(parentXPath: "/r"))
      ],
      to: Array(xml.utf8), file: "t.xml")
    #expect(same.changes.isEmpty && same.bytes == Array(xml.utf8))
  }

  @Test func mapsTheFragmentsIndentUnitToTheFiles() throws {
    let r = try edit([
      .ensureFragment(
        xpath: "/r/m", fragment: "<m>\n\t<i>gov</i>\n\t<t>\n\t\t<x/>\n\t</t>\n</m>",
        position: .before(xpath: "/r/z"))
    ])
    #expect(
      r.bytes.text.contains(
        "    <m>\n        <i>gov</i>\n        <t>\n            <x/>\n        </t>\n    </m>\n    <z/>"
      ))
  }

  @Test func keepsMultiLineTextAndAttributeValues() throws {
    let frag = "<m a=\"x\n  y\">line1\n  line2<c>\n</c></m>"
    let r = try edit([
      .ensureFragment(xpath: "/r/m", fragment: frag, position: .appendTo(parentXPath: "/r"))
    ])
    let doc = try ParsedXML(bytes: r.bytes, file: "t")
    #expect(try doc.values("/r/m/text()") == ["line1\n  line2"])
    // Attribute-value normalisation, as any parser reads it: the bytes were kept.
    #expect(try doc.values("/r/m/@a") == ["x   y"])
  }

  @Test func xpathThatMissesTheInsertedFragmentIsAnError() {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [
          .ensureFragment(
            xpath: "/r/a[@name='3']", fragment: fragment, position: .appendTo(parentXPath: "/r"))
        ],
        to: Array(xml.utf8), file: "t.xml")
    }
    #expect(e?.kind == .notIdempotent)
  }

  @Test func replacementThatTheXPathNoLongerSelectsIsAnError() {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [
          .ensureFragment(
            xpath: "/r/a[@name='1']", fragment: "<a name=\"9\"/>",
            position: .appendTo(parentXPath: "/r"))
        ],
        to: Array(xml.utf8), file: "t.xml")
    }
    #expect(e?.kind == .notIdempotent)
  }

  @Test func anchorMustBeOneElement() {
    let two = "<r><a/><a/></r>"
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.ensureFragment(xpath: "/r/b", fragment: "<b/>", position: .after(xpath: "/r/a"))],
        to: Array(two.utf8), file: "t.xml")
    }
    #expect(e?.kind == .ambiguous)
    let none = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.ensureFragment(xpath: "/r/b", fragment: "<b/>", position: .before(xpath: "/r/q"))],
        to: Array(two.utf8), file: "t.xml")
    }
    #expect(none?.kind == .noMatch)
    let root = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.ensureFragment(xpath: "/r/b", fragment: "<b/>", position: .after(xpath: "/r"))],
        to: Array(two.utf8), file: "t.xml")
    }
    #expect(root?.kind == .unsupported)
  }

  @Test(arguments: [
    "<a/><b/>", "", "text", "<a>", "<?xml version=\"1.0\"?><a/>", "<a>&undefined;</a>", "x<a/>",
  ])
  func rejectsBadFragments(_ frag: String) {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.ensureFragment(xpath: "/r/a", fragment: frag, position: .appendTo(parentXPath: "/r"))],
        to: Array("<r/>".utf8), file: "t.xml")
    }
    #expect(e?.kind == .malformed)
    #expect(e?.operationIndex == 0)
  }

  @Test func fragmentsMayUseTheDocumentsPrefixes() throws {
    let xml = "<r xmlns:svns=\"http://org.wso2.securevault/configuration\">\n  <x/>\n</r>"
    let r = try edit(
      [
        .ensureFragment(
          xpath: "/r/p", fragment: "<p svns:secretAlias=\"A\">v</p>",
          position: .appendTo(parentXPath: "/r"))
      ], in: xml)
    #expect(
      r.bytes.text
        == "<r xmlns:svns=\"http://org.wso2.securevault/configuration\">\n  <x/>\n  <p svns:secretAlias=\"A\">v</p>\n</r>"
    )
  }
}

@Suite struct SetChildrenTests {
  let xml =
    "<c>\n    <members>\n        <member>\n            <hostName>127.0.0.1</hostName>\n        </member>\n    </members>\n</c>\n"

  @Test func replacesTheChildrenAsABlock() throws {
    let r = try applyChecked(
      [
        .setChildren(
          xpath: "/c/members",
          fragment:
            "<member><hostName>a</hostName></member>\n<member><hostName>b</hostName></member>")
      ],
      to: Array(xml.utf8), file: "t.xml", within: nil)
    #expect(
      r.bytes.text
        == "<c>\n    <members>\n        <member><hostName>a</hostName></member>\n        <member><hostName>b</hostName></member>\n    </members>\n</c>\n"
    )
    #expect(r.changes.map(\.path) == ["/c/members"])
    #expect(r.changes[0].kind == .replaced)
  }

  @Test func nestedTargetsAreAmbiguous() {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.setChildren(xpath: "//m", fragment: "<x/>")], to: Array("<r><m><m/></m></r>".utf8),
        file: "t.xml")
    }
    #expect(e?.kind == .ambiguous)
  }

  @Test func equivalentChildrenAreNoChange() throws {
    let input = Array(xml.utf8)
    let r = try XMLEditor.apply(
      [
        .setChildren(
          xpath: "/c/members", fragment: "<member>\t<hostName>127.0.0.1</hostName><!--x--></member>"
        )
      ],
      to: input, file: "t.xml")
    #expect(r.changes.isEmpty && r.bytes == input)
  }

  @Test func emptyFragmentRemovesChildrenAndEmptyParentGetsThem() throws {
    let emptied = try applyChecked(
      [.setChildren(xpath: "/c/members", fragment: "  ")], to: Array(xml.utf8), file: "t.xml",
      within: nil)
    #expect(emptied.bytes.text == "<c>\n    <members>\n    </members>\n</c>\n")
    let filled = try applyChecked(
      [.setChildren(xpath: "/c/members", fragment: "<m/>")], to: emptied.bytes, file: "t.xml",
      within: nil)
    #expect(filled.bytes.text == "<c>\n    <members>\n        <m/>\n    </members>\n</c>\n")
  }
}
