import Testing

@testable import DasprovXML

@Suite struct NamespaceTests {
  let carbon =
    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<Server xmlns=\"http://wso2.org/projects/carbon/carbon.xml\">\n    <Ports>\n        <Offset>0</Offset>\n    </Ports>\n</Server>\n"

  @Test func plainXPathsIgnoreTheDefaultNamespace() throws {
    let doc = try ParsedXML(bytes: Array(carbon.utf8), file: "carbon.xml")
    #expect(try doc.values("/Server/Ports/Offset") == ["0"])
    let r = try applyChecked(
      [.setText(xpath: "/Server/Ports/Offset", value: "3")], to: Array(carbon.utf8),
      file: "carbon.xml", within: nil)
    #expect(r.bytes.text == carbon.replacingOccurrences(of: ">0<", with: ">3<"))
    #expect(r.changes.map(\.path) == ["/Server/Ports/Offset"])
  }

  @Test func aBoundPrefixKeepsTheNamespaceForPrefixedXPaths() throws {
    let ns = ["c": "http://wso2.org/projects/carbon/carbon.xml"]
    let doc = try ParsedXML(bytes: Array(carbon.utf8), file: "carbon.xml", namespaces: ns)
    #expect(try doc.values("/c:Server/c:Ports/c:Offset") == ["0"])
    #expect(try doc.count("/Server") == 0)
    let r = try XMLEditor.apply(
      [.setText(xpath: "/c:Server/c:Ports/c:Offset", value: "5")], to: Array(carbon.utf8),
      file: "carbon.xml", namespaces: ns)
    #expect(r.bytes.text.contains("<Offset>5</Offset>"))
  }

  @Test func insertedElementsInheritTheDefaultNamespaceInTheRealFile() async throws {
    let r = try applyChecked(
      [
        .ensureFragment(
          xpath: "/Server/HostName", fragment: "<HostName>das1</HostName>",
          position: .before(xpath: "/Server/Ports"))
      ],
      to: Array(carbon.utf8), file: "carbon.xml", within: nil)
    // A namespace-aware reader sees the new element in Carbon's namespace, as Carbon will.
    #expect(
      try await XMLLint.value(
        "string(/*[local-name()='Server']/*[local-name()='HostName' and namespace-uri()='http://wso2.org/projects/carbon/carbon.xml'])",
        in: r.bytes) == "das1")
  }

  @Test func documentPrefixesNeedNoBinding() throws {
    let xml =
      "<d xmlns:svns=\"http://org.wso2.securevault/configuration\"><p svns:secretAlias=\"A\"/></d>"
    #expect(
      try ParsedXML(bytes: Array(xml.utf8), file: "m.xml").values("/d/p/@svns:secretAlias") == ["A"]
    )
  }

  @Test func unknownPrefixIsAnXPathError() {
    let e = #expect(throws: XMLError.self) {
      try ParsedXML(bytes: Array("<a/>".utf8), file: "a.xml").values("/x:a")
    }
    #expect(e?.kind == .invalidXPath)
  }
}

@Suite struct EncodingTests {
  @Test func latin1BytesSurviveAndReadCorrectly() async throws {
    // "café" in ISO-8859-1 is 63 61 66 E9.
    let input: [UInt8] =
      Array("<?xml version='1.0' encoding='ISO-8859-1'?>\n<a><n>caf".utf8) + [0xE9]
      + Array("</n><v>x</v></a>\n".utf8)
    let doc = try ParsedXML(bytes: input, file: "l.xml")
    #expect(try doc.values("/a/n") == ["café"])
    let r = try applyChecked(
      [.setText(xpath: "/a/v", value: "ü€")], to: input, file: "l.xml", within: nil)
    #expect(
      r.bytes == Array("<?xml version='1.0' encoding='ISO-8859-1'?>\n<a><n>caf".utf8) + [0xE9]
        + Array("</n><v>".utf8) + [0xFC] + Array("&#x20AC;</v></a>\n".utf8))
    #expect(try await XMLLint.value("string(/a/v)", in: r.bytes) == "ü€")
  }

  @Test func latin1FragmentsGetCharacterReferences() async throws {
    let input = Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<a>\n  <b/>\n</a>".utf8)
    let r = try applyChecked(
      [
        .ensureFragment(
          xpath: "/a/c", fragment: "<c k=\"€\">é€</c>", position: .appendTo(parentXPath: "/a"))
      ], to: input, file: "l.xml", within: nil)
    #expect(
      r.bytes.suffix(34) == Array("<c k=\"&#x20AC;\">".utf8) + [0xE9]
        + Array("&#x20AC;</c>\n</a>".utf8))
    #expect(try await XMLLint.value("string(/a/c/@k)", in: r.bytes) == "€")
  }

  @Test func asciiDeclaredFilesEscapeEverythingAbove127() throws {
    let input = Array("<?xml version=\"1.0\" encoding=\"US-ASCII\"?><a/>".utf8)
    let r = try XMLEditor.apply([.setText(xpath: "/a", value: "é")], to: input, file: "a.xml")
    #expect(r.bytes.text == "<?xml version=\"1.0\" encoding=\"US-ASCII\"?><a>&#xE9;</a>")
  }

  @Test func utf8WithByteOrderMark() throws {
    let input: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("<a>\n  <b>ü</b>\n</a>".utf8)
    let r = try applyChecked(
      [.setText(xpath: "/a/b", value: "ö")], to: input, file: "b.xml", within: nil)
    #expect(r.bytes == [0xEF, 0xBB, 0xBF] + Array("<a>\n  <b>ö</b>\n</a>".utf8))
  }

  @Test func unsupportedEncodingsAreRefused() {
    for input: [UInt8] in [
      [0xFF, 0xFE, 0x3C, 0x00], Array("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a/>".utf8),
    ] {
      let e = #expect(throws: XMLError.self) { try ParsedXML(bytes: input, file: "e.xml") }
      #expect(e?.kind == .unsupportedEncoding)
    }
  }
}

@Suite struct EscapingTests {
  static let values = [
    "a<b&c\"d'", "]]>", "x]]>y<![CDATA[", "ünïcødé ✓ 𝄞 日本", "tab\there", "two\nlines", "cr\r\nlf",
    "  padded  ", "&amp;", "",
  ]

  @Test(arguments: values)
  func textRoundTrips(_ value: String) async throws {
    let r = try applyChecked(
      [.setText(xpath: "/a/b", value: value)], to: Array("<a><b>x</b></a>".utf8), file: "e.xml",
      within: nil)
    #expect(try ParsedXML(bytes: r.bytes, file: "e.xml").values("/a/b") == [value])
    #expect(try await XMLLint.value("string(/a/b)", in: r.bytes) == value)
  }

  @Test(arguments: values)
  func attributesRoundTripInBothQuoteStyles(_ value: String) async throws {
    let r = try applyChecked(
      [
        .setAttribute(xpath: "/a", name: "d", value: value),
        .setAttribute(xpath: "/a", name: "s", value: value),
      ],
      to: Array("<a d=\"1\" s='2'/>".utf8), file: "e.xml", within: nil)
    let doc = try ParsedXML(bytes: r.bytes, file: "e.xml")
    #expect(try doc.values("/a/@d") == [value])
    #expect(try doc.values("/a/@s") == [value])
    #expect(try await XMLLint.value("string(/a/@s)", in: r.bytes) == value)
  }

  @Test func controlCharactersCannotBeWritten() {
    let e = #expect(throws: XMLError.self) {
      try XMLEditor.apply(
        [.setText(xpath: "/a", value: "bell\u{7}")], to: Array("<a/>".utf8), file: "e.xml")
    }
    #expect(e?.kind == .unsupported)
  }
}
