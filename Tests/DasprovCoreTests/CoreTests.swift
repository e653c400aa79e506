import DasprovTestSupport
import Foundation
import Testing

@testable import DasprovCore

@Suite struct DiagnosticRenderingTests {
  @Test func rendersLocationSourceLineAndCaret() {
    let sources = SourceFiles()
    sources.register(file: "Playbooks/analyzer.dasp", text: "play a {\n  task \"x\" templte \"/a\" {}\n}\n")
    let d = Diagnostic.error(
      "unknown task kind 'templte' (did you mean 'template'?)",
      at: SourceRange(file: "Playbooks/analyzer.dasp", line: 2, column: 12, length: 7))
    let text = DiagnosticRenderer(sources: sources).render(d)
    #expect(
      text == """
        Playbooks/analyzer.dasp:2:12: error: unknown task kind 'templte' (did you mean 'template'?)
          task "x" templte "/a" {}
                   ^~~~~~~

        """)
  }

  @Test func caretFollowsTabs() {
    let sources = SourceFiles()
    sources.register(file: "f", text: "\tkey = @\n")
    let d = Diagnostic.error("bad", at: SourceRange(file: "f", line: 1, column: 8))
    #expect(DiagnosticRenderer(sources: sources).render(d) == "f:1:8: error: bad\n\tkey = @\n\t      ^\n")
  }

  @Test func diagnosticWithoutFile() {
    #expect(DiagnosticRenderer(sources: SourceFiles()).render(.error("host h1 unreachable")) == "error: host h1 unreachable\n")
  }
}

@Suite struct ShellQuoteTests {
  @Test(arguments: [
    ("plain/path-1.xml", "plain/path-1.xml"),
    ("with space", "'with space'"),
    ("it's", "'it'\\''s'"),
    ("$(rm -rf /)", "'$(rm -rf /)'"),
    ("`id`", "'`id`'"),
    ("", "''"),
    ("ünïcode", "'ünïcode'"),
  ])
  func quotes(input: String, expected: String) {
    #expect(input.shellQuoted == expected)
  }

  @Test func quotedWordsRoundTripThroughARealShell() async throws {
    let nasty = ["a b", "it's", "$(echo pwned)", "`id`", "x\"y", "new\nline", "ünï €", "*", "-n"]
    let r = try await Command.run("/bin/sh", ["-c", "printf '%s\\0' " + nasty.map(\.shellQuoted).joined(separator: " ")])
    let words = r.stdoutText.split(separator: "\0", omittingEmptySubsequences: false)
      .dropLast().map(String.init)
    #expect(words == nasty)
  }
}

@Suite struct SecretMaskerTests {
  @Test func masksRawXmlUrlAndJsonForms() {
    let m = SecretMasker()
    m.add("a<b&c\"d'e f")
    #expect(m.mask("pw=a<b&c\"d'e f") == "pw=********")
    #expect(m.mask("<password>a&lt;b&amp;c&quot;d&apos;e f</password>") == "<password>********</password>")
    #expect(m.mask("<password>a&lt;b&amp;c\"d'e f</password>") == "<password>********</password>")
    #expect(m.mask("url?p=a%3Cb%26c%22d%27e%20f") == "url?p=********")
    #expect(m.mask("url?p=a%3cb%26c%22d%27e%20f") == "url?p=********")
    #expect(m.mask("{\"p\":\"a<b&c\\\"d'e f\"}") == "{\"p\":\"********\"}")
  }

  @Test func shortValuesAreNotMasked() {
    let m = SecretMasker()
    m.add("ab")
    #expect(m.mask("abc ab") == "abc ab")
  }
}

@Suite struct SHA256Tests {
  @Test(arguments: [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
  ])
  func knownVectors(input: String, digest: String) {
    #expect(SHA256.hex(Array(input.utf8)) == digest)
  }

  @Test func millionAs() {
    #expect(
      SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test func streamedInPiecesEqualsWhole() {
    let data = (0..<70_001).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    var s = SHA256()
    for start in stride(from: 0, to: data.count, by: 777) {
      data[start..<min(start + 777, data.count)].withUnsafeBytes { s.update($0) }
    }
    #expect(s.finalizeHex() == SHA256.hex(data))
    // A sequence that is not contiguous takes the copying path.
    #expect(SHA256.hex(data.lazy.map { $0 }) == SHA256.hex(data))
  }
}

@Suite struct SHA1Tests {
  @Test func knownVectorAndMySQLNativePassword() {
    #expect(SHA1.digest(Array("abc".utf8)).map { String(format: "%02x", $0) }.joined() == "a9993e364706816aba3e25717850c26c9cd0d89d")
    // SELECT PASSWORD('password') on MySQL 5.7.
    #expect(SHA1.mysqlNativePassword("password") == "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19")
  }
}

@Suite struct SuggestionTests {
  @Test func suggestsCloseNames() {
    #expect(Suggestion.closest(to: "templte", in: ["template", "xml", "line"]) == "template")
    #expect(Suggestion.closest(to: "zzz", in: ["template", "xml", "line"]) == nil)
    #expect(Suggestion.didYouMean("lnk", in: ["link", "line"]) != "")
  }
}

@Suite struct ValueTests {
  @Test func jsonIsStableAndEscaped() {
    let v: Value = ["b": 1, "a": ["x\"y", true, nil]]
    #expect(v.jsonString() == "{\"a\":[\"x\\\"y\",true,null],\"b\":1}")
  }

  @Test func truthinessOfIniStrings() {
    #expect(!Value.string("false").isTruthy)
    #expect(!Value.string("False").isTruthy)
    #expect(Value.string("true").isTruthy)
    #expect(!Value.int(0).isTruthy)
  }
}

@Suite struct SourceFilesTests {
  @Test func crlfFilesHaveLines() {
    let sources = SourceFiles()
    sources.register(file: "a.xml", text: "<a>\r\n  <b/>\r\n</a>\r\n")
    #expect(sources.line(2, of: "a.xml") == "  <b/>")
    #expect(sources.line(3, of: "a.xml") == "</a>")
  }
}
