import DasprovCore
import Foundation
import Testing

@testable import DasprovTemplate

/// A variable's value is inserted as text, never rendered again: inventory values are rendered
/// once, when the inventory is loaded (`Inventory.templatedHostVars`), and what that yields —
/// an `!unsafe '{{ x }}'` among them — reaches the file as it is.
@Suite struct LiteralValueTests {
  private let value = "{{ db_password }}{% for h in hosts %}{{ h }}{% endfor %}{# c #}"

  @Test func textTemplatesInsertValuesVerbatim() throws {
    let t = try CompiledTemplate(path: "a.conf", text: "x={{ v }}\ny={{ m.k }}\n{% for i in l %}{{ i }};{% endfor %}")
    let out = try t.render(["v": .string(value), "m": ["k": .string(value)], "l": [.string(value)], "db_password": "leak", "hosts": ["h1"]])
    #expect(out == "x=\(value)\ny=\(value)\n\(value);")
  }

  @Test func xmlTemplatesEscapeButNeverRender() throws {
    let t = try CompiledTemplate(path: "a.xml", text: "<p>{{ v }}</p>")
    let out = try t.render(["v": .string(value), "db_password": "leak"])
    #expect(out == "<p>\(XMLEscaping.value(value))</p>")
    #expect(!out.contains("leak"))
  }
}
