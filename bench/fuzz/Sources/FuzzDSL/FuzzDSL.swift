import DasprovCore
import DasprovDSL
import FuzzDriver

/// One input: a `.dasp` file. Lexing and parsing must never trap, every diagnostic must render
/// (its caret line indexes into the source line), and evaluating the values of the declared
/// variables and the tasks' targets, conditions and loops must give a value or a diagnostic.
func fuzzDSL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let sources = SourceFiles()
  let (file, diagnostics) = Parser.parse(text: text(data, size), file: "fuzz.dasp", sources: sources)
  _ = DiagnosticRenderer(sources: sources).render(diagnostics)
  let evaluator = Evaluator(scope: ValueScope([:]))
  var exprs = file.vars.compactMap(\.value)
  for t in file.tasks { exprs += [t.target, t.when, t.loop?.sequence].compactMap { $0 } }
  for p in file.plays { exprs += [p.hosts, p.serial].compactMap { $0 } }
  exprs += [file.restartOrder].compactMap { $0 }
  for e in exprs { _ = try? evaluator.evaluate(e) }
  return 0
}

@main enum Main {
  static func main() { runFuzzer(fuzzDSL) }
}
