import DasprovCore
import Foundation
import Testing

@testable import DasprovTasks

/// The pristine DAS 3.1.0 files beside the project (`../shared/das-pack`).
func pristine(_ relative: String) throws -> String {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  let path = url.deletingLastPathComponent().path + "/shared/das-pack/3.1.0/repository/conf/" + relative
  return try String(contentsOfFile: path, encoding: .isoLatin1)
}

@Suite struct XMLTaskTests {
  @Test func setsAttributesAndTextAndIsIdempotent() throws {
    let original = try pristine("axis2/axis2.xml")
    let task = """
      task "hz" xml "/das/axis2.xml" {
        within "/axisconfig/clustering"
        set "@enable" = true
        set "parameter[@name='membershipScheme']" = "wka"
        set "parameter[@name='localMemberHost']" = addr
      }
      """
    let p = try plan(task, vars: ["addr": "10.0.0.5"], facts: facts(file("/das/axis2.xml", original)))
    let out = try #require(written(p))
    #expect(out.contains("enable=\"true\""))
    #expect(out.contains("<parameter name=\"membershipScheme\">wka</parameter>"))
    #expect(out.contains("<parameter name=\"localMemberHost\">10.0.0.5</parameter>"))
    #expect(out.filter { $0 == "\r\n" }.count == original.filter { $0 == "\r\n" }.count, "CRLF kept")
    guard case .xml(_, let changes) = p.diffs.first else { Issue.record("no XML diff"); return }
    #expect(changes.map(\.path).contains("/axisconfig/clustering/@enable"))
    let again = try plan(task, vars: ["addr": "10.0.0.5"], facts: facts(file("/das/axis2.xml", out)))
    #expect(again.changes.isEmpty)
  }

  @Test func setCreatesAMissingLeafButNotAMissingParent() throws {
    let original = try pristine("datasources/analytics-datasources.xml")
    let ok = """
      task "ds" xml "/a.xml" {
        set "/datasources-configuration/datasources/datasource[name='WSO2_ANALYTICS_EVENT_STORE_DB']/definition/configuration/testOnBorrow" = true
      }
      """
    let out = try #require(written(try plan(ok, facts: facts(file("/a.xml", original)))))
    #expect(out.contains("<testOnBorrow>true</testOnBorrow>"))
    let typo = ok.replacingOccurrences(of: "EVENT_STORE", with: "EVNT_STORE")
    #expect(throws: Diagnostic.self) { try plan(typo, facts: facts(file("/a.xml", original))) }
  }

  @Test func fragmentsComeFromTemplatesAndEscapeValues() throws {
    let original = try pristine("datasources/master-datasources.xml")
    let task = """
      task "um" xml "/m.xml" {
        fragment "/datasources-configuration/datasources/datasource[name='WSO2UM_DB']" from "ds.xml" after "/datasources-configuration/datasources/datasource[name='WSO2_CARBON_DB']"
      }
      """
    let template = "<datasource>\n    <name>WSO2UM_DB</name>\n    <password>{{ pw }}</password>\n</datasource>\n"
    let p = try plan(task, vars: ["pw": "a<b&c\"d'"], facts: facts(file("/m.xml", original)), templates: ["ds.xml": template])
    let out = try #require(written(p))
    #expect(out.contains("<password>a&lt;b&amp;c&quot;d&apos;</password>"))
    #expect(out.hasPrefix(String(original.prefix(200))))
    let again = try plan(task, vars: ["pw": "a<b&c\"d'"], facts: facts(file("/m.xml", out)), templates: ["ds.xml": template])
    #expect(again.changes.isEmpty)
    let rotated = try plan(task, vars: ["pw": "new"], facts: facts(file("/m.xml", out)), templates: ["ds.xml": template])
    #expect(written(rotated)?.contains("<password>new</password>") == true)
  }

  @Test func defaultNamespaceNeedsNoPrefix() throws {
    let original = try pristine("carbon.xml")
    let task = "task \"o\" xml \"/c.xml\" {\n  set \"/Server/Ports/Offset\" = 3\n}\n"
    let out = try #require(written(try plan(task, facts: facts(file("/c.xml", original)))))
    #expect(out.contains("<Offset>3</Offset>"))
  }

  @Test func aMissingFileIsAnError() {
    #expect(throws: Diagnostic.self) { try plan("task \"o\" xml \"/c.xml\" {\n  set \"/a\" = 1\n}\n") }
  }
}
