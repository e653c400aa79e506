import Testing

@testable import DasprovCore

@Suite struct XMLEscapingTests {
  @Test(arguments: [
    // (input, text, value (both quotes), double-quoted attribute)
    ("a<b&c>d", "a&lt;b&amp;c&gt;d", "a&lt;b&amp;c&gt;d", "a&lt;b&amp;c&gt;d"),
    ("say \"hi\" it's", "say \"hi\" it's", "say &quot;hi&quot; it&apos;s", "say &quot;hi&quot; it's"),
    ("a\tb\nc\r", "a\tb\nc\r", "a\tb\nc\r", "a&#9;b&#10;c&#13;"),
    ("]]>", "]]&gt;", "]]&gt;", "]]&gt;"),
    ("plain ü", "plain ü", "plain ü", "plain ü"),
  ])
  func forms(_ input: String, _ text: String, _ value: String, _ attribute: String) {
    #expect(XMLEscaping.escape(input) == text)
    #expect(XMLEscaping.value(input) == value)
    #expect(XMLEscaping.escape(input, doubleQuote: .named, whitespace: .all) == attribute)
  }

  @Test func numericQuotesAndCarriageReturn() {
    #expect(XMLEscaping.escape("\"'", doubleQuote: .numeric, apostrophe: .numeric) == "&#34;&#39;")
    #expect(XMLEscaping.escape("a\r\n\tb", whitespace: .carriageReturn) == "a&#13;\n\tb")
  }

  @Test func otherScalarsGoThroughTheHook() {
    struct Rejected: Error { let scalar: Unicode.Scalar }
    let ascii = XMLEscaping.escape("é&") { (scalar, out: inout String) in
      if scalar.isASCII { out.unicodeScalars.append(scalar) } else { out += "&#x\(String(scalar.value, radix: 16, uppercase: true));" }
    }
    #expect(ascii == "&#xE9;&amp;")
    #expect(throws: Rejected.self) {
      try XMLEscaping.escape("a\u{1}") { (scalar, out: inout String) throws(Rejected) in
        guard scalar.value >= 0x20 else { throw Rejected(scalar: scalar) }
        out.unicodeScalars.append(scalar)
      }
    }
  }

  @Test(arguments: [
    ("a&lt;b&amp;c&quot;d&apos;e&#39;f&#34;g&gt;", "a<b&c\"d'e'f\"g>"),
    ("&#xE9;&#233;&#X41;", "ééA"),
    ("&amp;lt;", "&lt;"),
    ("AT&T & co; &unknown; &#; &#xZZ; &#12a; &", "AT&T & co; &unknown; &#; &#xZZ; &#12a; &"),
    ("&#x110000;", "&#x110000;"),
  ])
  func unescape(_ input: String, _ expected: String) {
    #expect(XMLEscaping.unescape(input) == expected)
  }

  @Test func roundTrips() {
    for s in ["a<b&c\"d'e", "]]>&amp;", "\t\r\n x", "ü€𝄞"] {
      #expect(XMLEscaping.unescape(XMLEscaping.escape(s, doubleQuote: .named, apostrophe: .numeric, whitespace: .all)) == s)
    }
  }
}
