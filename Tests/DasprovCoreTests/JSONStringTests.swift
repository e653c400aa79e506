import DasprovCore
import Testing

/// The one JSON string escaper, against what Python's json.dumps writes (the expected texts are
/// Python 3.11's output for the same string).
@Suite("JSON strings")
struct JSONStringTests {
  private let sample = "a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{1F}\u{7F}é😀/"

  @Test("as json.dumps(s, ensure_ascii=False): only quotes, backslashes and control characters escaped")
  func pythonDefaultForAnsible() {
    #expect(JSONString.quoted(sample) == "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\u{7F}é😀/\"")
    #expect("plain text".jsonQuoted == "\"plain text\"")
  }

  @Test("as json.dumps(s): ASCII only, astral scalars as surrogate pairs")
  func asciiOnly() {
    #expect(JSONString.quoted(sample, asciiOnly: true) == #""a\"b\\c\n\r\t\b\f\u0001\u001f\u007f\u00e9\ud83d\ude00/""#)
  }

  @Test("Value.jsonString uses the same escapes")
  func valueWriter() {
    #expect(Value.map(["k\n": "\u{08}é"]).jsonString() == #"{"k\n":"\bé"}"#)
  }
}
