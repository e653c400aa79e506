import Testing

@testable import DasprovXML

@Suite struct SpanTests {
  @Test(arguments: Pack.files)
  func everyElementOfThePristineFilesHasExactTags(_ name: String) throws {
    let bytes = try Pack.bytes(name)
    let doc = try ParsedXML(bytes: bytes, file: name)
    let working = doc.tree.bytes
    #expect(!doc.tree.spans.isEmpty)
    for span in doc.tree.spans {
      #expect(
        TagScanner.tagNameMatches(
          working, at: span.start, name: Array(span.name.utf8), closing: false))
      if span.selfClosing {
        #expect(Array(working[(span.end - 2)..<span.end]) == Array("/>".utf8))
      } else {
        #expect(
          TagScanner.tagNameMatches(
            working, at: span.endTagStart, name: Array(span.name.utf8), closing: true))
        #expect(working[span.end - 1] == UInt8(ascii: ">"))
      }
    }
  }
}
