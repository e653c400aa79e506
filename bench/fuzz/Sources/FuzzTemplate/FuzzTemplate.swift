import DasprovCore
import DasprovTemplate
import FuzzDriver

/// One input: a template. The first byte picks XML or text escaping, the rest is the template.
/// Compiling must give a template or diagnostics; a compiled template must render with every
/// variable it reads defined (as a string, a list and a map in turn), or fail with a diagnostic.
func fuzzTemplate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  guard let data, size > 0 else { return 0 }
  let kind: TemplateKind = data[0] & 1 == 0 ? .xml : .text
  let path = kind == .xml ? "fuzz.xml" : "fuzz.conf"
  do throws(DiagnosticList) {
    let template = try CompiledTemplate(path: path, text: text(data + 1, size - 1), kind: kind)
    let names = Set(template.variables.map(\.name))
    let shapes: [Value] = [
      .string("a<b&c\"d'e]]>"), .list([.string("x"), .int(2)]), .map(["name": .string("n"), "port": .int(4000)]),
    ]
    for shape in shapes {
      _ = try? template.render(Dictionary(uniqueKeysWithValues: names.map { ($0, shape) }))
    }
  } catch {
    _ = DiagnosticRenderer().render(error.diagnostics)
  }
  return 0
}

@main enum Main {
  static func main() { runFuzzer(fuzzTemplate) }
}
