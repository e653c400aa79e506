import Foundation
import Testing

@testable import DasprovCore

/// The secret mask in diagnostics: values are masked, names never, and the caret follows.
@Suite struct MaskedDiagnosticTests {
  private func masker(_ secrets: String...) -> SecretMasker {
    let m = SecretMasker()
    for s in secrets { m.add(s) }
    return m
  }

  @Test func namesInMessagesAreNotMasked() {
    let d = Diagnostic.warning("group name \(name: "quagga-routers") is odd; quagga leaks otherwise")
    let text = DiagnosticRenderer(sources: SourceFiles(), masker: masker("quagga")).render(d)
    #expect(text == "warning: group name 'quagga-routers' is odd; ******** leaks otherwise\n")
  }

  @Test func positionalMaskingSkipsOnlyTheNamedSpan() {
    let m = masker("web")
    let text = "group web, value web"
    let name = text.range(of: "web")!
    #expect(m.mask(text, excluding: [name]) == "group web, value ********")
    #expect(m.mask(text, excluding: []) == m.mask(text))
  }

  @Test func quotedLinesMaskValuesNotNamesAndTheCaretMoves() {
    let sources = SourceFiles()
    // A toy reader: the word before '=' and the first word are names.
    sources.register(file: "inv", text: "[web]\nw1 ansible_password=web other=x\n") { line in
      var out: [Range<String.Index>] = []
      if let space = line.firstIndex(of: " ") { out.append(line.startIndex..<space) }
      if let r = line.range(of: "ansible_password") { out.append(r) }
      if let r = line.range(of: "other") { out.append(r) }
      if line.hasPrefix("[") { out.append(line.index(after: line.startIndex)..<line.index(before: line.endIndex)) }
      return out
    }
    let renderer = DiagnosticRenderer(sources: sources, masker: masker("web"))
    let later = Diagnostic.warning("x", at: SourceRange(file: "inv", line: 2, column: 25, length: 7))
    #expect(renderer.render(later) == "inv:2:25: warning: x\nw1 ansible_password=******** other=x\n                             ^~~~~~~\n")
    let onValue = Diagnostic.warning("x", at: SourceRange(file: "inv", line: 2, column: 21, length: 3))
    #expect(renderer.render(onValue) == "inv:2:21: warning: x\nw1 ansible_password=******** other=x\n                    ^~~~~~~~\n")
    let header = Diagnostic.warning("x", at: SourceRange(file: "inv", line: 1, column: 2, length: 3))
    #expect(renderer.render(header) == "inv:1:2: warning: x\n[web]\n ^~~\n")
  }

  @Test func withoutANameFinderTheWholeLineIsMasked() {
    let sources = SourceFiles()
    sources.register(file: "t", text: "web = web\n")
    let d = Diagnostic.error("e", at: SourceRange(file: "t", line: 1, column: 7, length: 3))
    #expect(DiagnosticRenderer(sources: sources, masker: masker("web")).render(d) == "t:1:7: error: e\n******** = ********\n           ^~~~~~~~\n")
  }

  @Test func redactedFilesAreNeverQuoted() {
    let sources = SourceFiles()
    sources.register(file: "/nonexistent/vault.yml", text: "secret: x\n", redacted: true)
    #expect(sources.line(1, of: "/nonexistent/vault.yml") == nil)
  }
}
