import DasprovCore
import DasprovTemplate
import Foundation
import Testing

@testable import DasprovDSL
@testable import DasprovTasks

/// Templates from a dictionary, for planning without a project on disk.
struct FixtureTemplates: TemplateSource {
  var texts: [String: String] = [:]
  var baseDirectory: String = "/tmp"
  func template(named name: String, at range: SourceRange) throws(Diagnostic) -> CompiledTemplate {
    guard let text = texts[name] else { throw Diagnostic.error("no template \(name)", at: range) }
    do throws(DiagnosticList) { return try CompiledTemplate(path: name, text: text) } catch {
      throw error.diagnostics[0]
    }
  }
}

/// Plans the single task in `source` against `facts` with `vars`.
func plan(
  _ source: String, vars: [String: Value] = [:], facts: HostFacts = HostFacts(), templates: [String: String] = [:]
) throws(Diagnostic) -> TaskPlan {
  let (file, diagnostics) = Parser.parse(text: source, file: "fixture.dasp", sources: SourceFiles())
  guard diagnostics.isEmpty, let task = file.tasks.first else { throw diagnostics.first ?? .error("no task") }
  guard let decoded = TaskKinds.decode(task) else { throw .error("unknown kind") }
  let arguments: any TaskArguments
  switch decoded {
  case .success(let a): arguments = a
  case .failure(let list): throw list.diagnostics[0]
  }
  let context = TaskContext(
    task: task, hostName: "h1", scope: ValueScope(vars), functions: FunctionTable(), facts: facts,
    templates: FixtureTemplates(texts: templates))
  return try arguments.plan(context)
}

func file(_ path: String, _ text: String, mode: Int = 0o644) -> (String, PathFacts) {
  let bytes = Array(text.utf8)
  return (path, PathFacts(type: .file, mode: mode, owner: "root", group: "root", size: bytes.count, sha256: SHA256.hex(bytes), content: bytes))
}

func facts(_ entries: (String, PathFacts)...) -> HostFacts {
  HostFacts(osID: "rhel", osLike: ["fedora"], paths: Dictionary(uniqueKeysWithValues: entries))
}

func written(_ plan: TaskPlan) -> String? {
  for case .write(_, let content, _, _, _) in plan.changes { return String(decoding: content, as: UTF8.self) }
  return nil
}

@Suite struct TemplateTaskTests {
  let task = "task \"t\" template \"/etc/app.conf\" {\n  from \"app.conf\"\n}\n"

  @Test func writesWhenMissingAndNotWhenEqual() throws {
    let first = try plan(task, vars: ["port": 9443], templates: ["app.conf": "port={{ port }}\n"])
    #expect(first.status == .changed)
    #expect(written(first) == "port=9443\n")
    let second = try plan(task, vars: ["port": 9443], facts: facts(file("/etc/app.conf", "port=9443\n")), templates: ["app.conf": "port={{ port }}\n"])
    #expect(second.status == .ok)
    #expect(second.changes.isEmpty)
  }

  @Test func keepsTheModeOfTheReplacedFile() throws {
    let p = try plan(task, vars: ["port": 1], facts: facts(file("/etc/app.conf", "old\n", mode: 0o600)), templates: ["app.conf": "port={{ port }}\n"])
    guard case .write(_, _, let mode, _, _) = p.changes.first else { Issue.record("no write"); return }
    #expect(mode == 0o600)
  }
}

@Suite struct LineTaskTests {
  let script = """
    #!/bin/sh
    # comment
    PRG="$0"
    [ -z "$CARBON_HOME" ] && CARBON_HOME=`cd "$PRGDIR/.." ; pwd`
    export CARBON_HOME

    """
  let task = """
    task "export" line "/opt/das/bin/wso2server.sh" {
      ensure "export CARBON_HOME={{ link }}" match '^[ \\t]*export[ \\t]+CARBON_HOME=' before '^\\[ -z "\\$CARBON_HOME" \\]'
    }
    """

  @Test func insertsOnceBeforeTheAnchorAndIsIdempotent() throws {
    let p = try plan(task, vars: ["link": "/opt/wso2das"], facts: facts(file("/opt/das/bin/wso2server.sh", script)))
    let out = try #require(written(p))
    let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.filter { $0.hasPrefix("export CARBON_HOME=") }.count == 1)
    let exportIndex = lines.firstIndex { $0 == "export CARBON_HOME=/opt/wso2das" }!
    let anchorIndex = lines.firstIndex { $0.hasPrefix("[ -z \"$CARBON_HOME\" ]") }!
    #expect(exportIndex == anchorIndex - 1)
    #expect(lines.contains("export CARBON_HOME"))
    let again = try plan(task, vars: ["link": "/opt/wso2das"], facts: facts(file("/opt/das/bin/wso2server.sh", out)))
    #expect(again.changes.isEmpty)
  }

  @Test func aChangedValueReplacesTheLineInsteadOfAddingOne() throws {
    let before = script.replacingOccurrences(of: "PRG=", with: "export CARBON_HOME=/old\nexport CARBON_HOME=/older\nPRG=")
    let p = try plan(task, vars: ["link": "/new"], facts: facts(file("/opt/das/bin/wso2server.sh", before)))
    let out = try #require(written(p))
    #expect(out.components(separatedBy: "export CARBON_HOME=").count == 2)
    #expect(out.contains("export CARBON_HOME=/new\n[ -z"))
  }

  @Test func absentRemovesEveryMatch() throws {
    let t = "task \"x\" line \"/f\" {\n  absent '^export CARBON_HOME='\n}\n"
    let p = try plan(t, facts: facts(file("/f", "a\nexport CARBON_HOME=/x\nb\n")))
    #expect(written(p) == "a\nb\n")
  }

  @Test func keepsCRLFLineEndings() throws {
    let t = "task \"x\" line \"/f\" {\n  ensure \"c\" after '^a$'\n}\n"
    let p = try plan(t, facts: facts(file("/f", "a\r\nb\r\n")))
    #expect(written(p) == "a\r\nc\r\nb\r\n")
  }

  @Test func aMissingAnchorIsAnErrorNamingTheFile() {
    let t = "task \"x\" line \"/f\" {\n  ensure \"c\" after '^nothing'\n}\n"
    #expect {
      _ = try plan(t, facts: facts(file("/f", "a\n")))
    } throws: { error in
      (error as? Diagnostic)?.message == "anchor '^nothing' matches no line of /f on h1"
    }
  }

  @Test func aMissingFileIsAnError() {
    let t = "task \"x\" line \"/f\" {\n  absent 'x'\n}\n"
    #expect(throws: Diagnostic.self) { try plan(t) }
  }
}

@Suite struct PropertiesTaskTests {
  let conf = """
    carbon.spark.master local
    carbon.spark.master.count  1

    # Below configuratoin can be used to point to a symbolic link to WSO2 DAS HOME
    # carbon.das.symbolic.link /home/ubuntu/das/das_symlink/

    spark.scheduler.mode FAIR

    """
  let task = """
    task "spark" properties "/s.conf" {
      set "carbon.spark.master.count" = 2
      set "carbon.das.symbolic.link" = link
    }
    """

  @Test func setsKeysKeepingSeparatorsAndPlacesNewKeysAfterTheirExample() throws {
    let p = try plan(task, vars: ["link": "/opt/wso2das"], facts: facts(file("/s.conf", conf)))
    let out = try #require(written(p))
    #expect(out.contains("carbon.spark.master.count  2\n"))
    #expect(out.contains("# carbon.das.symbolic.link /home/ubuntu/das/das_symlink/\ncarbon.das.symbolic.link /opt/wso2das\n"))
    #expect(out.contains("spark.scheduler.mode FAIR\n"))
    let again = try plan(task, vars: ["link": "/opt/wso2das"], facts: facts(file("/s.conf", out)))
    #expect(again.changes.isEmpty)
  }

  @Test func appendsUnknownKeysWithTheFilesSeparator() throws {
    let t = "task \"p\" properties \"/a.properties\" {\n  set \"c\" = \"3\"\n}\n"
    let p = try plan(t, facts: facts(file("/a.properties", "a=1\nb=2\n")))
    #expect(written(p) == "a=1\nb=2\nc=3\n")
  }
}

@Suite struct LinkTaskTests {
  let task = "task \"l\" link \"/opt/wso2das\" { to target }\n"

  @Test func createsReplacesOrLeavesALink() throws {
    #expect(try plan(task, vars: ["target": "/opt/wso2das-3.1.0"]).changes == [.symlink(path: "/opt/wso2das", target: "/opt/wso2das-3.1.0")])
    let right = facts(("/opt/wso2das", PathFacts(type: .symlink, linkTarget: "/opt/wso2das-3.1.0")))
    #expect(try plan(task, vars: ["target": "/opt/wso2das-3.1.0"], facts: right).changes.isEmpty)
    let wrong = facts(("/opt/wso2das", PathFacts(type: .symlink, linkTarget: "/opt/old")))
    #expect(try plan(task, vars: ["target": "/opt/wso2das-3.1.0"], facts: wrong).changes.count == 1)
  }

  @Test func refusesToReplaceADirectory() {
    let dir = facts(("/opt/wso2das", PathFacts(type: .directory)))
    #expect(throws: Diagnostic.self) { try plan(task, vars: ["target": "/x"], facts: dir) }
  }
}

@Suite struct CommandTaskTests {
  @Test func guardsDecideWithoutARoundTrip() throws {
    let t = "task \"c\" command [\"load\", \"schema\"] {\n  creates \"/done\"\n}\n"
    #expect(try plan(t).changes == [.run(argv: ["load", "schema"], chdir: nil)])
    #expect(try plan(t, facts: facts(("/done", PathFacts(type: .file)))).changes.isEmpty)
    let u = "task \"c\" command [\"load\"] {\n  unless [\"check\", \"it\"]\n}\n"
    var f = HostFacts()
    f.probes[["check", "it"]] = 0
    #expect(try plan(u, facts: f).changes.isEmpty)
    f.probes[["check", "it"]] = 1
    #expect(try plan(u, facts: f).changes.count == 1)
  }

  @Test func anUnguardedCommandSaysItIsNotIdempotent() throws {
    let p = try plan("task \"c\" command [\"x\"]\n")
    #expect(p.notes == ["no creates/unless guard: this command runs on every apply"])
  }
}

@Suite struct PruneTaskTests {
  @Test func keepsTheNewestPerDirectory() throws {
    let t = "task \"p\" prune \"/das/cep_persistence\" {\n  match '^([0-9]+)_'\n  keep 2\n}\n"
    let entries = [
      "-1234/PlanA/1493101044948_PlanA", "-1234/PlanA/1493101045948_PlanA", "-1234/PlanA/1493101046948_PlanA",
      "-1234/PlanB/100_PlanB", "-1234/PlanB/99_PlanB", "-1234/PlanB/notes.txt",
    ]
    let f = facts(("/das/cep_persistence", PathFacts(type: .directory, entries: entries)))
    let p = try plan(t, facts: f)
    #expect(p.changes == [.remove(path: "/das/cep_persistence/-1234/PlanA/1493101044948_PlanA", recursive: false, backup: false)])
  }
}

@Suite struct FileAndDirectoryTaskTests {
  @Test func directoryIsCreatedThenLeftAlone() throws {
    let t = "task \"d\" directory \"/opt/x\" {\n  mode \"0750\"\n}\n"
    #expect(try plan(t).changes == [.makeDirectory(path: "/opt/x", mode: 0o750, owner: nil, group: nil)])
    let existing = facts(("/opt/x", PathFacts(type: .directory, mode: 0o750)))
    #expect(try plan(t, facts: existing).changes.isEmpty)
    let wrongMode = facts(("/opt/x", PathFacts(type: .directory, mode: 0o755)))
    #expect(try plan(t, facts: wrongMode).changes == [.setAttributes(path: "/opt/x", mode: 0o750, owner: nil, group: nil)])
  }

  @Test func badModesAreErrors() {
    #expect(throws: Diagnostic.self) { try plan("task \"f\" file \"/x\" {\n  mode \"999\"\n}\n") }
  }
}

@Suite struct StatementValidationTests {
  @Test func unknownStatementsSuggestTheRightOne() {
    let (file, _) = Parser.parse(text: "task \"t\" template \"/x\" {\n  form \"a\"\n}\n", file: "v.dasp", sources: SourceFiles())
    let d = StatementValidator.validate(file.tasks[0].statements, rules: TemplateTask.rules, owner: "a template task", ownerRange: file.tasks[0].range)
    #expect(d.map(\.message) == [
      "'form' is not a statement of a template task (did you mean 'from'?); expected one of: from, mode, owner, group",
      "a template task needs a 'from' statement: from \"template-name\" (a file in the module's templates/)",
    ])
  }
}

/// Statements are decoded once into typed arguments; what decoding rejects is what the validator
/// reports, with the statement's range.
@Suite struct ArgumentDecodingTests {
  func task(_ text: String) -> TaskDecl {
    let (file, diagnostics) = Parser.parse(text: text, file: "d.dasp", sources: SourceFiles())
    #expect(diagnostics.isEmpty)
    return file.tasks[0]
  }

  func problems(_ text: String) -> [Diagnostic] {
    guard case .failure(let list)? = TaskKinds.decode(task(text)) else { return [] }
    return list.diagnostics
  }

  @Test func brokenRulesAreTheValidatorsMessages() {
    let decl = task("task \"t\" link \"/a\" {\n  to\n}\n")
    let expected = StatementValidator.validate(decl.statements, rules: LinkTask.rules, owner: "a link task", ownerRange: decl.kind.range)
    #expect(!expected.isEmpty)
    #expect(problems("task \"t\" link \"/a\" {\n  to\n}\n") == expected)
  }

  @Test(arguments: [
    ("task \"t\" xml \"/a.xml\" {\n  fragment \"/r/x\" after \"/r/y\"\n}\n", "fragment needs 'from \"template.xml\"'", 2),
    ("task \"t\" xml \"/a.xml\" {\n  fragment \"/r/x\" from \"x.xml\"\n}\n", "fragment needs where to insert it: after, before or into an XPath", 2),
    ("task \"t\" xml \"/a.xml\" {\n  set \"/r\" = 1\n  children \"/r\"\n}\n", "children needs 'from \"template.xml\"'", 3),
    (
      "task \"t\" mysql {\n  database \"d\"\n  user \"u\"\n  password \"p\"\n  schema \"/s.sql\" into [\"d\"]\n}\n",
      "schema needs 'from HOST' and 'into [databases]'", 5
    ),
  ])
  func shapesTheRulesCannotSayAreRejectedAtTheStatement(_ text: String, _ message: String, _ line: Int) {
    let found = problems(text)
    #expect(found.map(\.message) == [message])
    #expect(found.first?.range?.line == line)
  }

  @Test func unknownKindsAreLeftToTheValidator() {
    #expect(TaskKinds.decode(task("task \"t\" templte \"/a\" {\n  from \"x\"\n}\n")) == nil)
  }

  @Test func handlersReportTheValidatorsFirstProblemInsteadOfTrapping() {
    let (file, _) = Parser.parse(
      text: "handler restart service {\n  stop [\"x\"]\n}\n", file: "h.dasp", sources: SourceFiles())
    let handler = file.handlers[0]
    let context = TaskContext(
      task: TaskDecl(
        name: "restart", nameRange: handler.name.range, kind: handler.kind, target: nil, when: nil, loop: nil,
        statements: handler.statements, notify: [], tags: [], range: handler.range),
      hostName: "h1", scope: ValueScope([:]), functions: FunctionTable(), facts: nil, templates: FixtureTemplates())
    do throws(Diagnostic) {
      _ = try HandlerKinds.resolve(handler, context: context, defaultAddress: "h1")
      Issue.record("a handler without 'start' was resolved")
    } catch {
      #expect(error.message.hasPrefix("a service handler needs a 'start' statement"))
    }
  }
}

/// The schema the MySQL host loads comes from another host's fact round trip, not from a read
/// made while planning.
@Suite struct MySQLSchemaTests {
  let source = """
    task "dbs" mysql {
      database "userdb"
      user "das"
      password "pw-123"
      schema "/opt/das/dbscripts/mysql.sql" from "das1" into ["userdb"]
    }

    """

  /// The task's context on `db1`, with the catalogue saying the user and grants exist and
  /// `userdb` has `tables` tables.
  func context(tables: Int, peers: [String: HostFacts] = [:], problems: [String: String] = [:]) throws -> (MySQLTask.Arguments, TaskContext) {
    let (file, _) = Parser.parse(text: source, file: "m.dasp", sources: SourceFiles())
    let task = file.tasks[0]
    let arguments = try MySQLTask.arguments(of: task)
    let bare = TaskContext(task: task, hostName: "db1", scope: ValueScope([:]), functions: FunctionTable(), facts: nil, templates: FixtureTemplates())
    let probe = MySQLTask.probe(try arguments.desired(bare))
    let hash = SHA1.mysqlNativePassword("pw-123")
    var catalogue = "db\tuserdb\tlatin1\nuser\t%\t\(hash)\n"
    for p in MySQLTask.needed { catalogue += "grant\t'das'@'%'\tuserdb\t\(p)\n" }
    if tables > 0 { catalogue += "tables\tuserdb\t\(tables)\n" }
    var facts = HostFacts(probes: [probe.argv: 0])
    facts.probeOutputs[probe.argv] = Array(catalogue.utf8)
    let context = TaskContext(
      task: task, hostName: "db1", scope: ValueScope([:]), functions: FunctionTable(), facts: facts, peerFacts: peers,
      peerProblems: problems, templates: FixtureTemplates())
    return (arguments, context)
  }

  @Test func theSchemaIsRequestedFromItsHost() throws {
    let (arguments, context) = try context(tables: 0)
    let (paths, probes) = try arguments.factRequests(context)
    #expect(paths == [FactRequest(host: "das1", path: "/opt/das/dbscripts/mysql.sql", needs: [.stat, .content])])
    #expect(probes.count == 1)
  }

  @Test func aMissingSchemaIsLoadedFromThePeersFacts() throws {
    let schema = Array("CREATE TABLE REG_LOG (id INT);\n".utf8)
    let das1 = HostFacts(paths: ["/opt/das/dbscripts/mysql.sql": PathFacts(type: .file, size: schema.count, content: schema)])
    let (arguments, context) = try context(tables: 0, peers: ["das1": das1])
    let plan = try arguments.plan(context)
    guard case .run(let argv, _, let stdin, _)? = plan.changes.last else {
      Issue.record("no load: \(plan.changes)")
      return
    }
    #expect(argv.last == "userdb")
    #expect(stdin == schema)
  }

  @Test func anUnreachableSchemaHostFailsOnlyAPlanThatNeedsIt() throws {
    let problems = ["das1": "das1 is unreachable: connection refused"]
    let (loaded, loadedContext) = try context(tables: 12, problems: problems)
    #expect(try loaded.plan(loadedContext).changes.isEmpty)
    let (missing, missingContext) = try context(tables: 0, problems: problems)
    do throws(Diagnostic) {
      _ = try missing.plan(missingContext)
      Issue.record("planned a schema load without the schema")
    } catch {
      #expect(error.message == "cannot read the schema /opt/das/dbscripts/mysql.sql from das1: das1 is unreachable: connection refused")
      #expect(error.range?.line == 5)
    }
  }

  @Test func aSchemaThatIsNotThereIsNamedWithItsHost() throws {
    let (arguments, context) = try context(tables: 0, peers: ["das1": HostFacts()])
    do throws(Diagnostic) {
      _ = try arguments.plan(context)
      Issue.record("planned without the schema")
    } catch {
      #expect(error.message == "cannot read the schema /opt/das/dbscripts/mysql.sql from das1: it does not exist")
    }
  }
}
