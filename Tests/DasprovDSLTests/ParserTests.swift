import DasprovCore
import Testing

@testable import DasprovDSL

/// Renders what parsing `text` as `file` reports, exactly as users read it.
func renderedDiagnostics(_ text: String, file: String = "Modules/m/tasks.dasp") -> String {
  // A registry of our own: tests run in parallel and reuse file names.
  let sources = SourceFiles()
  let (_, diagnostics) = Parser.parse(text: text, file: file, sources: sources)
  return DiagnosticRenderer(sources: sources).render(diagnostics)
}

@Suite struct LexerTests {
  @Test func tokensCarryLinesAndColumns() {
    var lexer = Lexer(text: "task \"a {{ x }}\" xml\n  set 'raw\\d' = 9443 + offset", file: "f")
    let tokens = lexer.tokenize()
    #expect(lexer.diagnostics.isEmpty)
    let summary = tokens.map { t -> String in
      switch t.kind {
      case .identifier(let s): return "id:\(s)@\(t.range.line):\(t.range.column)"
      case .string: return "str@\(t.range.line):\(t.range.column)+\(t.range.length)"
      case .rawString(let s): return "raw:\(s)@\(t.range.line):\(t.range.column)"
      case .integer(let i): return "int:\(i)@\(t.range.line):\(t.range.column)"
      case .symbol(let s): return "sym:\(s)@\(t.range.line):\(t.range.column)"
      case .newline: return "nl"
      case .end: return "end"
      }
    }
    #expect(
      summary == [
        "id:task@1:1", "str@1:6+11", "id:xml@1:18", "nl", "id:set@2:3", "raw:raw\\d@2:7", "sym:=@2:15", "int:9443@2:17",
        "sym:+@2:22", "id:offset@2:24", "end",
      ])
  }

  @Test func interpolationsKnowWhereTheyAre() {
    var lexer = Lexer(text: "\"{{ das_home }}/conf\"", file: "f")
    let tokens = lexer.tokenize()
    guard case .string(let segments) = tokens[0].kind, case .interpolation(let source, let range) = segments[0] else {
      Issue.record("expected an interpolation")
      return
    }
    #expect(source == " das_home ")
    #expect(range.column == 4)
  }

  @Test func identifiersMayContainHyphens() {
    var lexer = Lexer(text: "use das-base, das-x\n a - b", file: "f")
    let names = lexer.tokenize().compactMap(\.identifier)
    #expect(names == ["use", "das-base", "das-x", "a", "b"])
  }

  @Test func newlinesInsideBracketsDoNotEndStatements() {
    var lexer = Lexer(text: "x [\n1,\n2\n]\ny", file: "f")
    let kinds = lexer.tokenize().map(\.kind)
    #expect(kinds.filter { $0 == .newline }.count == 1)
  }
}

@Suite struct ParserTests {
  @Test func parsesATaskWithClausesAndStatements() throws {
    let text = """
      task "point user store" xml "{{ das_home }}/repository/conf/user-mgt.xml" when os_family == "RedHat" {
        set "/UserManager/Realm/Configuration/Property[@name='dataSource']" = "jdbc/WSO2UM_DB"
        fragment "/a/b" from "t.xml" after "/a/c"
        notify restart
        tags config, "xml"
      }
      """
    let (file, diagnostics) = Parser.parse(text: text, file: "t.dasp")
    #expect(diagnostics.isEmpty)
    let task = try #require(file.tasks.first)
    #expect(task.name == "point user store")
    #expect(task.kind.name == "xml")
    #expect(task.when?.structuralKey == "(os_family == \"RedHat\")")
    #expect(task.statements.map(\.keyword.name) == ["set", "fragment"])
    #expect(task.statements[1].modifiers.map(\.name.name) == ["from", "after"])
    #expect(task.notify.map(\.name) == ["restart"])
    #expect(task.tags.map(\.name) == ["config", "xml"])
    #expect(task.range.line == 1)
    #expect(task.statements[1].range.line == 3)
  }

  @Test func parsesLoopsOverListsOfMaps() throws {
    let text = """
      task "ds" xml "/f" for ds in [
          {name: "A", db: "a"},
          {name: "B", db: "b"},
        ] {
        set "/x" = ds.name
      }
      """
    let (file, diagnostics) = Parser.parse(text: text, file: "t.dasp")
    #expect(diagnostics.isEmpty)
    #expect(file.tasks.first?.loop?.variable.name == "ds")
  }

  @Test func parsesPlaysImportsAndVars() throws {
    let text = """
      var das_restart_order = "analyzers,indexers"
      secret var db_password
      import "analyzers.dasp"
      restart order das_restart_order
      play analyzers {
        hosts analyzers
        serial 1
        vars {
          das_profile = "-analyzerNode"
        }
        use das-base, das-spark
      }
      """
    let (file, diagnostics) = Parser.parse(text: text, file: "site.dasp")
    #expect(diagnostics.isEmpty)
    #expect(file.vars.map(\.name.name) == ["das_restart_order", "db_password"])
    #expect(file.vars[1].secret && file.vars[1].value == nil)
    #expect(file.imports.map(\.path) == ["analyzers.dasp"])
    #expect(file.plays.first?.modules.map(\.name) == ["das-base", "das-spark"])
    #expect(file.plays.first?.vars.first?.name.name == "das_profile")
  }

  @Test func expressionPrecedence() throws {
    let (expr, diagnostics) = Parser.parseExpression(text: "a ?? b or c and not d == 1 + 2 * 3", file: "e")
    #expect(diagnostics.isEmpty)
    #expect(expr?.structuralKey == "(a ?? (b or (c and (not (d == (1 + (2 * 3)))))))")
  }

  @Test(arguments: [
    (
      "task \"x\" xml \"/f\" {\n  set \"/a\" = \n}\n",
      """
      Modules/m/tasks.dasp:2:14: error: expected a value, found end of line
        set "/a" = 
                   ^

      """
    ),
    (
      "tsk \"x\" xml \"/f\" {}\n",
      """
      Modules/m/tasks.dasp:1:1: error: unknown declaration 'tsk' (did you mean 'task'?)
      tsk "x" xml "/f" {}
      ^~~

      """
    ),
    (
      "task \"x\" xml \"/f {\n",
      """
      Modules/m/tasks.dasp:1:14: error: unterminated string: expected a closing '"'
      task "x" xml "/f {
                   ^

      """
    ),
    (
      "task \"x\" xml \"{{ a + }}\" {}\n",
      """
      Modules/m/tasks.dasp:1:22: error: expected a value, found end of file
      task "x" xml "{{ a + }}" {}
                           ^

      """
    ),
    (
      "var in = 3\n",
      """
      Modules/m/tasks.dasp:1:5: error: 'in' is a reserved word and cannot name a variable
      var in = 3
          ^~

      """
    ),
    (
      "task \"x\" xml \"/f\" {\n  become\n}\n",
      """
      Modules/m/tasks.dasp:2:3: error: 'become' is set per host in the inventory (ansible_become=true), not per task
        become
        ^~~~~~

      """
    ),
  ])
  func diagnosticsAreExact(input: String, expected: String) {
    #expect(renderedDiagnostics(input) == expected)
  }

  @Test func recoversAndReportsSeveralErrors() {
    let text = """
      task "a" xml "/f" {
        set "/x" = = 1
      }
      task "b" line "/g" {
        ensure "x" after
      }
      task "c" link "/l" { to "/t" }
      """
    let (file, diagnostics) = Parser.parse(text: text, file: "m.dasp")
    #expect(diagnostics.count == 2)
    #expect(diagnostics.map(\.range?.line) == [2, 5])
    #expect(file.tasks.map(\.name) == ["a", "b", "c"])
  }
}

@Suite struct EvaluatorTests {
  func eval(_ text: String, _ vars: [String: Value] = [:]) throws(Diagnostic) -> Value {
    let (expr, diagnostics) = Parser.parseExpression(text: text, file: "e")
    guard let expr, diagnostics.isEmpty else { throw diagnostics.first ?? .error("no expression") }
    return try Evaluator(scope: ValueScope(vars)).evaluate(expr)
  }

  @Test func arithmeticAndStrings() throws {
    #expect(try eval("9443 + das_port_offset", ["das_port_offset": 2]) == .int(9445))
    #expect(try eval("9443 + das_port_offset", ["das_port_offset": "3"]) == .int(9446))
    #expect(try eval("\"{{ a }}/conf\"", ["a": "/opt/das"]) == .string("/opt/das/conf"))
    #expect(try eval("join(split(\"a, b,c\"), \"+\")") == .string("a+b+c"))
  }

  @Test func membershipAndConditionals() throws {
    let vars: [String: Value] = ["group_names": ["analyzers"], "groups": ["analyzers": ["h1", "h2"], "indexers": ["h3"]]]
    #expect(try eval("\"analyzers\" in group_names", vars) == .bool(true))
    #expect(try eval("if \"analyzers\" in group_names then groups.analyzers else groups.indexers", vars) == ["h1", "h2"])
    #expect(try eval("groups.analyzers[1]", vars) == .string("h2"))
    #expect(try eval("missing ?? \"fallback\"") == .string("fallback"))
  }

  @Test func undefinedVariableSuggestsAName() {
    #expect(throws: Diagnostic.self) { try eval("das_hom", ["das_home": "/x"]) }
    do {
      _ = try eval("das_hom", ["das_home": "/x"])
    } catch {
      #expect(error.message == "undefined variable 'das_hom' (did you mean 'das_home'?)")
      #expect(error.range?.column == 1)
    }
  }

  @Test func lazyDefaultsSeeTheWholeScopeAndDetectCycles() throws {
    let (a, _) = Parser.parseExpression(text: "ansible_host ?? inventory_hostname", file: "d")
    let (b, _) = Parser.parseExpression(text: "c", file: "d")
    let (c, _) = Parser.parseExpression(text: "b", file: "d")
    let defaults = LazyScope(["das_address": a!, "b": b!, "c": c!])
    let root = ChainScope([ValueScope(["inventory_hostname": "host1"]), defaults])
    defaults.resolver = root
    #expect(try root.lookup("das_address") == .string("host1"))
    #expect(throws: Diagnostic.self) { try root.lookup("b") }
  }
}
