import DasprovCore
import Foundation
import FoundationXML
import Testing

@testable import DasprovTemplate

@Suite struct TemplateTests {
  @Test func findsVariablesButNotLoopVariables() throws {
    let t = try CompiledTemplate(
      path: "members.xml",
      text: """
        <members>{% for m in peers %}
          <member><hostName>{{ m.das_address }}</hostName><port>{{ m.hazelcast_port }}</port></member>{% endfor %}
        </members>
        <x>{{ cluster_domain }}</x>{% if enable_x %}<y>{{ "literal" }}{{ 42 }}</y>{% endif %}
        """)
    #expect(Set(t.variables.map(\.name)) == ["peers", "cluster_domain", "enable_x"])
    let undefined = t.undefinedVariables(in: ["peers", "enable_x"])
    #expect(undefined.map(\.name) == ["cluster_domain"])
    #expect(undefined.first?.range.line == 4)
  }

  @Test func loopVariableOutsideItsLoopIsAFreeVariable() throws {
    let t = try CompiledTemplate(path: "a.txt", text: "{% for h in hosts %}{{ h }}{% endfor %}{{ h }}")
    #expect(t.variables.map(\.name).sorted() == ["h", "hosts"])
  }

  @Test func filterArgumentsAreVariablesToo() throws {
    let t = try CompiledTemplate(path: "a.txt", text: "{{ items|join:separator }}")
    #expect(Set(t.variables.map(\.name)) == ["items", "separator"])
  }

  /// Outputs are reused only for equal inputs: a member list that differs in one nested value
  /// renders anew, from any thread.
  @Test func renderedOutputsAreReusedOnlyForEqualValues() async throws {
    let t = try CompiledTemplate(path: "m.xml", text: "{% for m in peers %}<h>{{ m.address }}</h>{% endfor %}")
    func peers(_ last: String) -> [String: Value] {
      ["peers": .list([.map(["address": .string("10.0.0.1")]), .map(["address": .string(last)])])]
    }
    #expect(try t.render(peers("10.0.0.2")) == "<h>10.0.0.1</h><h>10.0.0.2</h>")
    #expect(try t.render(peers("10.0.0.3")) == "<h>10.0.0.1</h><h>10.0.0.3</h>")
    #expect(try t.render(peers("10.0.0.2")) == "<h>10.0.0.1</h><h>10.0.0.2</h>")
    let outputs = await withTaskGroup(of: String.self) { group in
      for i in 0..<300 { group.addTask { (try? t.render(peers("h\(i % 7)"))) ?? "error" } }
      var all: [String] = []
      for await o in group { all.append(o) }
      return Set(all)
    }
    #expect(outputs == Set((0..<7).map { "<h>10.0.0.1</h><h>h\($0)</h>" }))
  }

  @Test func xmlValuesAreEscapedAndParseBack() throws {
    let t = try CompiledTemplate(path: "ds.xml", text: "<password>{{ pw }}</password><a v=\"{{ pw }}\"/>")
    let out = try t.render(["pw": "a<b&c\"d'e]]>"])
    #expect(out == "<password>a&lt;b&amp;c&quot;d&apos;e]]&gt;</password><a v=\"a&lt;b&amp;c&quot;d&apos;e]]&gt;\"/>")
    let doc = try XMLDocument(xmlString: "<r>\(out)</r>")
    #expect(try doc.nodes(forXPath: "//password").first?.stringValue == "a<b&c\"d'e]]>")
    #expect(try doc.nodes(forXPath: "//a/@v").first?.stringValue == "a<b&c\"d'e]]>")
  }

  @Test func rawOptsOutOfEscaping() throws {
    let t = try CompiledTemplate(path: "f.xml", text: "{{ markup|raw }}")
    #expect(try t.render(["markup": "<b/>"]) == "<b/>")
  }

  @Test func textTemplatesAreNotEscaped() throws {
    let t = try CompiledTemplate(path: "spark-defaults.conf", text: "k {{ v }}")
    #expect(try t.render(["v": "a<b"]) == "k a<b")
  }

  @Test func booleansRenderLowercase() throws {
    let t = try CompiledTemplate(path: "x.xml", text: "{{ flag }}")
    #expect(try t.render(["flag": true]) == "true")
  }

  @Test func syntaxErrorsNameTheTemplateLine() {
    #expect {
      _ = try CompiledTemplate(path: "bad.xml", text: "ok\n{% for x in y %}\nno end")
    } throws: { error in
      guard let list = error as? DiagnosticList else { return false }
      return list.diagnostics.first?.range?.file == "bad.xml" && list.diagnostics.first?.message.contains("template syntax") == true
    }
  }
}
