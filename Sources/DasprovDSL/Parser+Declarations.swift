import DasprovCore

/// Declarations: files, variables, imports, tasks, handlers, checks and plays. Each one ends at
/// its line or block, which is where the parser recovers after an error.
extension Parser {
  /// Every declaration of the file; after an error, parsing goes on at the next line.
  public mutating func parseFile() -> SourceFile {
    var file = SourceFile(path: self.file)
    skipNewlines()
    while !atEnd {
      do throws(Recover) {
        try parseTopLevel(into: &file)
      } catch {
        recoverToLineEnd()
        // A stray '}' closes no block here; recovery stops in front of it, so step over it.
        if current.isSymbol("}") { advance() }
      }
      skipNewlines()
    }
    return file
  }

  private mutating func parseTopLevel(into file: inout SourceFile) throws(Recover) {
    guard let word = current.identifier else {
      throw fail("expected 'task', 'handler', 'var', 'play', 'import' or 'restart', found \(current.kind)")
    }
    switch word {
    case "var", "secret": file.vars.append(try parseVar())
    case "task": file.tasks.append(try parseTask())
    case "handler": file.handlers.append(try parseHandler())
    case "check": file.checks.append(try parseHandler())
    case "play": file.plays.append(try parsePlay())
    case "import":
      advance()
      let (path, range) = try parsePlainString("a playbook path")
      file.imports.append((path, range))
      try expectEndOfStatement("import")
    case "restart":
      let start = advance()
      guard current.isIdentifier("order") else { throw fail("expected 'order' after 'restart'") }
      advance()
      file.restartOrder = try parseExpression()
      _ = start
      try expectEndOfStatement("restart order")
    default:
      let known = ["task", "handler", "check", "var", "secret", "play", "import", "restart"]
      throw fail("unknown declaration '\(word)'\(Suggestion.didYouMean(word, in: known))")
    }
  }

  private mutating func parseVar() throws(Recover) -> VarDecl {
    let start = current.range
    var secret = false
    if current.isIdentifier("secret") {
      secret = true
      advance()
    }
    guard current.isIdentifier("var") else { throw fail("expected 'var' after 'secret'") }
    advance()
    let name = try expectIdentifier("a variable name")
    try checkNotReserved(name)
    var value: Expr?
    if current.isSymbol("=") {
      advance()
      value = try parseExpression()
    }
    try expectEndOfStatement("variable '\(name.name)'")
    return VarDecl(name: name, value: value, secret: secret, range: start)
  }

  private mutating func checkNotReserved(_ name: Identifier) throws(Recover) {
    if Self.reservedWords.contains(name.name) {
      throw fail("'\(name.name)' is a reserved word and cannot name a variable", at: name.range)
    }
  }

  // MARK: - Tasks and handlers

  private mutating func parseTask() throws(Recover) -> TaskDecl {
    let start = advance().range
    let (name, nameRange) = try parseTaskName()
    let kind = try expectIdentifier("a task kind after the task name (template, xml, line, …)")
    var task = TaskDecl(
      name: name, nameRange: nameRange, kind: kind, target: nil, when: nil, loop: nil, statements: [],
      notify: [], tags: [], range: start)
    if !startsClause {
      task.target = try parseExpression()
    }
    try parseTaskClauses(&task)
    if current.isSymbol("{") {
      try parseBlock { (p: inout Parser) throws(Recover) in try p.parseTaskStatement(&task) }
    }
    try expectEndOfStatement("task '\(name)'")
    return task
  }

  private mutating func parseTaskName() throws(Recover) -> (String, SourceRange) {
    switch current.kind {
    case .string(let segments):
      let text = segments.map { seg -> String in
        switch seg {
        case .text(let t): return t
        case .interpolation(let source, _): return "{{\(source)}}"
        }
      }.joined()
      return (text, advance().range)
    case .rawString(let s): return (s, advance().range)
    default: throw fail("expected the task's name in quotes after 'task', found \(current.kind)")
    }
  }

  private var startsClause: Bool {
    current.isSymbol("{") || atNewline || atEnd || current.isIdentifier("when") || current.isIdentifier("for")
  }

  private mutating func parseTaskClauses(_ task: inout TaskDecl) throws(Recover) {
    while true {
      if current.isIdentifier("when") {
        advance()
        task.when = try parseExpression()
      } else if current.isIdentifier("for") {
        advance()
        let variable = try expectIdentifier("a loop variable after 'for'")
        try checkNotReserved(variable)
        guard current.isIdentifier("in") else { throw fail("expected 'in' after the loop variable") }
        advance()
        task.loop = TaskDecl.Loop(variable: variable, sequence: try parseExpression())
      } else {
        return
      }
    }
  }

  private mutating func parseBlock(_ body: (inout Parser) throws(Recover) -> Void) throws(Recover) {
    _ = try expectSymbol("{", "to open the block")
    skipNewlines()
    while !current.isSymbol("}") {
      if atEnd { throw fail("expected '}' to close the block, found end of file") }
      do throws(Recover) {
        try body(&self)
      } catch {
        recoverToLineEnd()
      }
      skipNewlines()
    }
    advance()
  }

  private mutating func parseTaskStatement(_ task: inout TaskDecl) throws(Recover) {
    guard let word = current.identifier else { throw fail("expected a statement, found \(current.kind)") }
    switch word {
    case "notify":
      advance()
      task.notify += try parseNameList("a handler name")
      try expectEndOfStatement("notify")
    case "tags":
      advance()
      task.tags += try parseNameList("a tag")
      try expectEndOfStatement("tags")
    case "when":
      let keyword = advance()
      if task.when != nil { throw fail("task already has a 'when' condition", at: keyword.range) }
      task.when = try parseExpression()
      try expectEndOfStatement("when")
    case "become":
      throw fail("'become' is set per host in the inventory (ansible_become=true), not per task")
    default:
      task.statements.append(try parseStatement())
    }
  }

  /// `a, b, "c"` — names of handlers or tags.
  private mutating func parseNameList(_ what: String) throws(Recover) -> [Identifier] {
    var names: [Identifier] = []
    repeat {
      if current.isSymbol(",") { advance() }
      switch current.kind {
      case .identifier(let n): names.append(Identifier(n, advance().range))
      case .string, .rawString:
        let (text, range) = try parsePlainString(what)
        names.append(Identifier(text, range))
      default: throw fail("expected \(what), found \(current.kind)")
      }
    } while current.isSymbol(",")
    return names
  }

  /// `keyword [positional] (modifier expr)* [= value]`
  private mutating func parseStatement() throws(Recover) -> Statement {
    let keyword = try expectIdentifier("a statement")
    var statement = Statement(keyword: keyword, positional: nil, modifiers: [], value: nil, range: keyword.range)
    if !(atNewline || atEnd || current.isSymbol("}") || current.isSymbol("=") || isModifier) {
      statement.positional = try parseExpression()
    }
    while isModifier {
      let name = try expectIdentifier("a modifier")
      statement.modifiers.append(Statement.Modifier(name: name, value: try parseExpression()))
    }
    if current.isSymbol("=") {
      advance()
      statement.value = try parseExpression()
    }
    try expectEndOfStatement("'\(keyword.name)'")
    return statement
  }

  private var isModifier: Bool {
    guard let word = current.identifier else { return false }
    return Self.modifierWords.contains(word)
  }

  private mutating func parseHandler() throws(Recover) -> HandlerDecl {
    let keyword = advance()
    let start = keyword.range
    let what = keyword.identifier ?? "handler"
    let name = try expectIdentifier("a \(what) name after '\(what)'")
    let kind = try expectIdentifier(what == "check" ? "a check kind after the check name (database)" : "a handler kind after the handler name (service, command)")
    var description: String?
    if case .string = current.kind {
      description = try parsePlainString("a description").0
    } else if case .rawString = current.kind {
      description = try parsePlainString("a description").0
    }
    var handler = HandlerDecl(name: name, description: description, kind: kind, statements: [], range: start)
    try parseBlock { (p: inout Parser) throws(Recover) in handler.statements.append(try p.parseStatement()) }
    try expectEndOfStatement("\(what) '\(name.name)'")
    return handler
  }

  // MARK: - Plays

  private mutating func parsePlay() throws(Recover) -> PlayDecl {
    let start = advance().range
    let name = try expectIdentifier("a play name after 'play'")
    var play = PlayDecl(name: name, hosts: nil, serial: nil, vars: [], modules: [], tags: [], range: start)
    try parseBlock { (p: inout Parser) throws(Recover) in try p.parsePlayStatement(&play) }
    try expectEndOfStatement("play '\(name.name)'")
    return play
  }

  private mutating func parsePlayStatement(_ play: inout PlayDecl) throws(Recover) {
    guard let word = current.identifier else { throw fail("expected a play statement, found \(current.kind)") }
    switch word {
    case "hosts":
      advance()
      if let name = current.identifier, !Self.reservedWords.contains(name) {
        // A bare word is a host pattern, not a variable: `hosts analyzers`.
        let t = advance()
        play.hosts = .literal(.string(name), t.range)
      } else {
        play.hosts = try parseExpression()
      }
      try expectEndOfStatement("hosts")
    case "serial":
      advance()
      play.serial = try parseExpression()
      try expectEndOfStatement("serial")
    case "use":
      advance()
      play.modules += try parseNameList("a module name")
      try expectEndOfStatement("use")
    case "tags":
      advance()
      play.tags += try parseNameList("a tag")
      try expectEndOfStatement("tags")
    case "var", "secret":
      play.vars.append(try parseVar())
    case "vars":
      advance()
      try parseBlock { (p: inout Parser) throws(Recover) in
        let name = try p.expectIdentifier("a variable name")
        try p.checkNotReserved(name)
        _ = try p.expectSymbol("=", "after the variable name")
        let value = try p.parseExpression()
        play.vars.append(VarDecl(name: name, value: value, secret: false, range: name.range))
        try p.expectEndOfStatement("variable '\(name.name)'")
      }
      try expectEndOfStatement("vars")
    default:
      let known = ["hosts", "serial", "use", "tags", "var", "vars"]
      throw fail("unknown play statement '\(word)'\(Suggestion.didYouMean(word, in: known))")
    }
  }
}
