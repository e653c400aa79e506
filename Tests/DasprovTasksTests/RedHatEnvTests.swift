import DasprovCore
import DasprovTestSupport
import Foundation
import Testing

@testable import DasprovDSL
@testable import DasprovTasks

/// The project's own `export CARBON_HOME` task (Modules/das-redhat-env): the value is
/// shell-quoted, a quoted line stays as it is, and the unquoted line earlier versions wrote is
/// replaced, so an upgrade converges on one line.
@Suite struct RedHatEnvTests {
  static let task: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let text = (try? String(contentsOfFile: url.path + "/Modules/das-redhat-env/tasks.dasp", encoding: .utf8)) ?? ""
    // The first task of the file is the RedHat one; `plan` plans the first task it parses.
    return String(text[text.range(of: "task \"export CARBON_HOME on RedHat\"")!.lowerBound...])
  }()
  let path = "/opt/wso2das-3.1.0/bin/wso2server.sh"
  let script = """
    #!/bin/sh
    PRG="$0"
    [ -z "$CARBON_HOME" ] && CARBON_HOME=`cd "$PRGDIR/.." ; pwd`
    export CARBON_HOME

    """

  func apply(_ text: String, link: String) throws -> String? {
    written(try plan(Self.task, vars: ["das_home": "/opt/wso2das-3.1.0", "das_link": .string(link)], facts: facts(file(path, text))))
  }

  @Test func writesTheLinkQuotedAndKeepsAQuotedLine() throws {
    let out = try #require(try apply(script, link: "/opt/wso2das"))
    #expect(out.contains("PRG=\"$0\"\nexport CARBON_HOME='/opt/wso2das'\n[ -z \"$CARBON_HOME\" ]"), "\(out)")
    #expect(try apply(out, link: "/opt/wso2das") == nil, "a quoted line was rewritten")
  }

  @Test func replacesTheUnquotedLineOfEarlierVersions() throws {
    let old = script.replacingOccurrences(of: "[ -z", with: "export CARBON_HOME=/opt/wso2das\n[ -z")
    let out = try #require(try apply(old, link: "/opt/wso2das"))
    #expect(out == script.replacingOccurrences(of: "[ -z", with: "export CARBON_HOME='/opt/wso2das'\n[ -z"), "\(out)")
    #expect(try apply(out, link: "/opt/wso2das") == nil)
  }

  @Test func aLinkWithSpacesQuotesAndDollarsStaysOneUnexpandedWord() async throws {
    let link = "/opt/das link/it's $(id) `id` ${HOME}"
    let out = try #require(try apply(script, link: link))
    let line = try #require(out.split(separator: "\n").first { $0.hasPrefix("export CARBON_HOME=") })
    #expect(line == #"export CARBON_HOME='/opt/das link/it'\''s $(id) `id` ${HOME}'"#)
    // What the shell makes of the line is the link, byte for byte.
    let shell = try await Command.run("/bin/sh", ["-c", "\(line); printf %s \"$CARBON_HOME\""])
    let echoed = shell.stdoutText
    #expect(echoed == link, "\(shell.stderrText)")
  }

  @Test func shellQuoteIsABuiltin() throws {
    let scope = ValueScope(["x": "a'b"])
    let (file, _) = Parser.parse(text: "var y = shell_quote(x)\n", file: "t.dasp", sources: SourceFiles())
    let value = try Evaluator(scope: scope).evaluate(try #require(file.vars.first?.value))
    #expect(value == .string(#"'a'\''b'"#))
    #expect(try Evaluator(scope: ValueScope(["x": 7])).evaluate(try #require(file.vars.first?.value)) == .string("'7'"))
  }
}
