import DasprovCore
import Testing

@testable import DasprovXML

@Suite struct ErrorTests {
  @Test func malformedXMLCarriesLibxml2sMessageAndPosition() {
    let e = #expect(throws: XMLError.self) {
      try ParsedXML(bytes: Array("<a>\n  <b>\n  </c>\n</a>\n".utf8), file: "conf/bad.xml")
    }
    #expect(e?.kind == .malformed)
    #expect(e?.line == 3)
    #expect(e?.column != nil)
    #expect(e?.message.contains("Opening and ending tag mismatch: b line 2 and c") == true)
    #expect(e?.description.hasPrefix("conf/bad.xml:3:") == true)
    #expect(e?.diagnostic.range?.line == 3)
    #expect(e?.diagnostic.range?.file == "conf/bad.xml")
  }

  @Test func editingAMalformedFileFailsBeforeAnyOperation() {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply([], to: Array("<a><b></a>".utf8), file: "x.xml")
    }
    #expect(e?.kind == .malformed)
    #expect(e?.operationIndex == nil)
  }

  @Test(arguments: [
    "", "   ", "just text", "<a>", "<a></a><b/>", "<a x='1' x='2'/>", "<a>&nope;</a>",
  ])
  func notWellFormed(_ text: String) {
    let e = #expect(throws: XMLError.self) { try ParsedXML(bytes: Array(text.utf8), file: "n.xml") }
    #expect(e?.kind == .malformed)
  }

  @Test func externalEntitiesAreNeitherFetchedNorExpanded() throws {
    let xxe =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>\n<a>&x;</a>"
    let doc = try ParsedXML(bytes: Array(xxe.utf8), file: "xxe.xml")
    #expect(try doc.values("/a") == ["&x;"])
  }

  @Test(arguments: [
    ("/a/[", "Invalid expression at character 4"), ("//*[", "Invalid expression at character 5"),
    ("/a/b[@x='1'", "Invalid predicate at character 12"), ("count(", "Invalid number of arguments"),
    ("/a/b/@", "Invalid expression"), ("/x:a", "Undefined namespace prefix"),
    ("nosuch(1)", "Unregistered function"),
  ])
  func invalidXPathCarriesLibxml2sMessage(_ xpath: String, _ libxml2: String) {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.setText(xpath: xpath, value: "v")], to: Array("<a><b/></a>".utf8), file: "x.xml")
    }
    #expect(e?.kind == .invalidXPath)
    #expect(e?.xpath == xpath)
    #expect(
      e?.message.hasPrefix("invalid xpath '\(xpath)': \(libxml2)") == true, "\(e?.message ?? "")")
  }

  @Test func xpathThatComputesAValueCannotBeEdited() {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.setText(xpath: "count(/a)", value: "v")], to: Array("<a/>".utf8), file: "x.xml")
    }
    #expect(e?.kind == .invalidXPath)
  }

  @Test func noMatchNamesFileAndXPath() {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.setText(xpath: "/Server/Portz/Offset", value: "1")], to: Array("<Server/>".utf8),
        file: "carbon.xml")
    }
    #expect(e?.kind == .noMatch)
    #expect(e?.file == "carbon.xml")
    #expect(e?.xpath == "/Server/Portz/Offset")
    #expect(
      e?.diagnostic.description.contains("carbon.xml: xpath '/Server/Portz/Offset' matched nothing")
        == true)
  }

  @Test func queriesReturnValuesAndCounts() throws {
    let doc = try ParsedXML(
      bytes: Array("<a n='1'><b>x</b><b>y<c>z</c></b></a>".utf8), file: "q.xml")
    #expect(try doc.values("/a/b") == ["x", "yz"])
    #expect(try doc.values("/a/@n") == ["1"])
    #expect(try doc.values("count(/a/b)") == ["2"])
    #expect(try doc.values("string(/a/b[2]/c)") == ["z"])
    #expect(try doc.count("//b") == 2)
    #expect(try doc.count("/nothing") == 0)
    #expect(doc.rootName == "a")
  }
}

@Suite struct EntityTests {
  /// Internal entities with markup are parsed by libxml2 in a separate context that shares the
  /// SAX handler: their elements must not be mistaken for elements of the file.
  @Test func internalEntityMarkupDoesNotConfuseOffsets() throws {
    let xml =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY e \"<b>inner</b>\">]>\n<a>\n  <p>&e;</p>\n  <c>old</c>\n</a>\n"
    let r = try applyChecked(
      [.setText(xpath: "/a/c", value: "new")], to: Array(xml.utf8), file: "ent.xml", within: nil)
    #expect(r.bytes.text == xml.replacingOccurrences(of: "old", with: "new"))
    #expect(try ParsedXML(bytes: r.bytes, file: "ent.xml").values("/a/p") == ["&e;"])
  }
}
