import DasprovCore
import DasprovDSL
import DasprovInventory
import Foundation
import Testing

@testable import DasprovEngine

/// Inputs the fuzz targets of bench/fuzz found to hang or trap dasprov, each now a diagnostic.
@Suite struct FuzzRegressionTests {
  /// FuzzDSL, in its first seconds: a `}` that closes no block made top-level recovery stop in
  /// front of it forever, adding a diagnostic each turn until memory ran out.
  @Test func aStrayClosingBraceIsOneError() {
    let sources = SourceFiles()
    for text in ["}\n", "x \"{{ a =}/b\"\n  ensure \"y\"\n}\n", "task \"t\" line \"/x\" {\n}\n}\n}\n"] {
      let (_, diagnostics) = Parser.parse(text: text, file: "stray.dasp", sources: sources)
      #expect(!diagnostics.isEmpty && diagnostics.count <= 3, "\(text): \(diagnostics)")
    }
    let (_, ds) = Parser.parse(text: "task \"a\" file \"/a\"\n}\ntask \"b\" file \"/b\"\n", file: "stray2.dasp", sources: sources)
    #expect(DiagnosticRenderer(sources: sources).render(ds) == """
      stray2.dasp:2:1: error: expected 'task', 'handler', 'var', 'play', 'import' or 'restart', found '}'
      }
      ^

      """)
  }

  /// FuzzDSL: integer arithmetic trapped on overflow.
  @Test func integerOverflowIsAnError() throws {
    for text in [
      "9223372036854775807 + 1", "-9223372036854775807 - 2", "4611686018427387904 * 2",
      "(-9223372036854775807 - 1) / -1", "(-9223372036854775807 - 1) % -1", "-(-9223372036854775807 - 1)",
    ] {
      let (expr, parseErrors) = Parser.parseExpression(text: text, file: "overflow.dasp")
      #expect(parseErrors.isEmpty, "\(parseErrors)")
      let e = try #require(expr)
      #expect(throws: Diagnostic.self, "\(text)") { try Evaluator(scope: ValueScope([:])).evaluate(e) }
      do {
        _ = try Evaluator(scope: ValueScope([:])).evaluate(e)
      } catch {
        #expect(error.message.hasPrefix("integer overflow"), "\(text): \(error)")
      }
    }
  }

  /// FuzzInventory: `all` listed as a child group made a loop (every top-level group is put
  /// under `all`), and computing group depths recursed until the stack overflowed (SIGSEGV in
  /// `dasprov validate`, `inventory --graph`, `apply`).
  @Test func allAsAChildGroupIsAnError() {
    for text in ["[parent:children]\nall\n", "[a:children]\nb\n[b:children]\nall\n[c]\nh1\n"] {
      #expect {
        try InventoryLoader.parse(text: text, file: "loop.ini")
      } throws: { error in
        let message = (error as? DiagnosticList)?.description ?? ""
        return message.contains("error: group 'all' cannot be a child of") && message.contains("loop.ini:")
      }
    }
  }
}
