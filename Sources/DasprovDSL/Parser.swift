import DasprovCore

/// A recursive-descent parser for `.dasp` files.
///
/// It recovers at line and block boundaries, so one run reports every syntax error in a file.
/// It knows the shape of statements, not their meaning: which task kinds and keywords exist is
/// checked by the validator, which can then suggest the right spelling.
public struct Parser {
  private var tokens: [Token]
  private var position = 0
  private let file: String
  public private(set) var diagnostics: [Diagnostic] = []

  /// Words the expression grammar owns; they cannot name variables.
  public static let reservedWords: Set<String> = [
    "and", "or", "not", "in", "if", "then", "else", "true", "false", "none",
  ]

  /// Words that introduce a modifier inside a statement (`fragment X from "t" after Y`).
  public static let modifierWords: Set<String> = [
    "from", "after", "before", "into", "match", "to", "on", "contains", "timeout", "keep", "by",
    "with", "as", "mode", "owner", "group", "unless", "creates", "charset",
  ]

  public init(tokens: [Token], file: String) {
    self.tokens = tokens
    self.file = file
  }

  /// Lexes and parses a whole file.
  /// `sources` receives the text so diagnostics can quote it (tests pass their own registry).
  public static func parse(text: String, file: String, sources: SourceFiles = .shared) -> (SourceFile, [Diagnostic]) {
    sources.register(file: file, text: text)
    var lexer = Lexer(text: text, file: file)
    let tokens = lexer.tokenize()
    var parser = Parser(tokens: tokens, file: file)
    let source = parser.parseFile()
    return (source, lexer.diagnostics + parser.diagnostics)
  }

  /// Parses one expression, e.g. a `--extra` value or an interpolation.
  public static func parseExpression(text: String, file: String, line: Int = 1, column: Int = 1)
    -> (Expr?, [Diagnostic])
  {
    var lexer = Lexer(text: text, file: file, line: line, column: column)
    let tokens = lexer.tokenize()
    var parser = Parser(tokens: tokens, file: file)
    let expr = parser.parseStandaloneExpression()
    return (expr, lexer.diagnostics + parser.diagnostics)
  }

  // MARK: - Token access

  private var current: Token { tokens[min(position, tokens.count - 1)] }
  private func peekToken(_ offset: Int = 1) -> Token { tokens[min(position + offset, tokens.count - 1)] }

  @discardableResult
  private mutating func advance() -> Token {
    let t = current
    if position < tokens.count - 1 { position += 1 }
    return t
  }

  private var atEnd: Bool { if case .end = current.kind { return true } else { return false } }
  private var atNewline: Bool { if case .newline = current.kind { return true } else { return false } }

  private mutating func skipNewlines() { while atNewline { advance() } }

  /// Thrown inside the parser to unwind to the nearest recovery point.
  struct Recover: Error {}

  private mutating func fail(_ message: String, at range: SourceRange? = nil) -> Recover {
    diagnostics.append(.error(message, at: range ?? current.range))
    return Recover()
  }

  private mutating func expectSymbol(_ s: String, _ context: String) throws(Recover) -> Token {
    guard current.isSymbol(s) else { throw fail("expected '\(s)' \(context), found \(current.kind)") }
    return advance()
  }

  private mutating func expectIdentifier(_ what: String) throws(Recover) -> Identifier {
    guard let name = current.identifier else { throw fail("expected \(what), found \(current.kind)") }
    let t = advance()
    return Identifier(name, t.range)
  }

  private mutating func expectEndOfStatement(_ context: String) throws(Recover) {
    if atNewline || atEnd || current.isSymbol("}") {
      if atNewline { advance() }
      return
    }
    throw fail("expected end of line after \(context), found \(current.kind)")
  }

  /// Skips to the start of the next line (or past the end of the current block).
  private mutating func recoverToLineEnd() {
    var depth = 0
    while !atEnd {
      if current.isSymbol("{") { depth += 1 }
      if current.isSymbol("}") {
        if depth == 0 { return }
        depth -= 1
        if depth == 0 {
          advance()
          return
        }
      }
      if atNewline && depth == 0 {
        advance()
        return
      }
      advance()
    }
  }

  // MARK: - Files

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

  private mutating func parsePlainString(_ what: String) throws(Recover) -> (String, SourceRange) {
    switch current.kind {
    case .rawString(let s):
      return (s, advance().range)
    case .string(let segments):
      var text = ""
      for segment in segments {
        guard case .text(let t) = segment else { throw fail("\(what) cannot contain '{{ }}'") }
        text += t
      }
      return (text, advance().range)
    default:
      throw fail("expected \(what) in quotes, found \(current.kind)")
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

  // MARK: - Expressions

  mutating func parseStandaloneExpression() -> Expr? {
    do throws(Recover) {
      let e = try parseExpression()
      skipNewlines()
      if !atEnd { throw fail("unexpected \(current.kind) after the expression") }
      return e
    } catch {
      return nil
    }
  }

  mutating func parseExpression() throws(Recover) -> Expr {
    try parseCoalesce()
  }

  private mutating func parseCoalesce() throws(Recover) -> Expr {
    var left = try parseOr()
    while current.isSymbol("??") {
      let op = advance()
      let right = try parseOr()
      left = .binary("??", left, right, span(left.range, right.range, op.range))
    }
    return left
  }

  private mutating func parseOr() throws(Recover) -> Expr {
    var left = try parseAnd()
    while current.isIdentifier("or") || current.isSymbol("||") {
      let op = advance()
      let right = try parseAnd()
      left = .binary("or", left, right, span(left.range, right.range, op.range))
    }
    return left
  }

  private mutating func parseAnd() throws(Recover) -> Expr {
    var left = try parseNot()
    while current.isIdentifier("and") || current.isSymbol("&&") {
      let op = advance()
      let right = try parseNot()
      left = .binary("and", left, right, span(left.range, right.range, op.range))
    }
    return left
  }

  private mutating func parseNot() throws(Recover) -> Expr {
    if current.isIdentifier("not") || current.isSymbol("!") {
      let op = advance()
      let operand = try parseNot()
      return .unary("not", operand, span(op.range, operand.range, op.range))
    }
    return try parseComparison()
  }

  private mutating func parseComparison() throws(Recover) -> Expr {
    let left = try parseAdditive()
    var op: String?
    for candidate in ["==", "!=", "<=", ">=", "<", ">"] where current.isSymbol(candidate) { op = candidate }
    if current.isIdentifier("in") { op = "in" }
    if current.isIdentifier("not"), peekToken().isIdentifier("in") {
      advance()
      op = "not in"
    }
    guard let op else { return left }
    let opToken = advance()
    let right = try parseAdditive()
    return .binary(op, left, right, span(left.range, right.range, opToken.range))
  }

  private mutating func parseAdditive() throws(Recover) -> Expr {
    var left = try parseMultiplicative()
    while current.isSymbol("+") || current.isSymbol("-") {
      let op = advance()
      let right = try parseMultiplicative()
      left = .binary(op.isSymbol("+") ? "+" : "-", left, right, span(left.range, right.range, op.range))
    }
    return left
  }

  private mutating func parseMultiplicative() throws(Recover) -> Expr {
    var left = try parseUnary()
    while current.isSymbol("*") || current.isSymbol("/") || current.isSymbol("%") {
      let op = advance()
      guard case .symbol(let s) = op.kind else { break }
      let right = try parseUnary()
      left = .binary(s, left, right, span(left.range, right.range, op.range))
    }
    return left
  }

  private mutating func parseUnary() throws(Recover) -> Expr {
    if current.isSymbol("-") {
      let op = advance()
      let operand = try parseUnary()
      return .unary("-", operand, span(op.range, operand.range, op.range))
    }
    return try parsePostfix()
  }

  private mutating func parsePostfix() throws(Recover) -> Expr {
    var expr = try parsePrimary()
    while true {
      if current.isSymbol(".") {
        advance()
        let member = try expectIdentifier("a name after '.'")
        expr = .member(expr, member)
      } else if current.isSymbol("[") {
        let open = advance()
        let index = try parseExpression()
        let close = try expectSymbol("]", "to close the index")
        expr = .index(expr, index, span(expr.range, close.range, open.range))
      } else if current.isSymbol("("), case .variable(let name) = expr {
        advance()
        var args: [Expr] = []
        if !current.isSymbol(")") {
          repeat {
            if current.isSymbol(",") { advance() }
            args.append(try parseExpression())
          } while current.isSymbol(",")
        }
        let close = try expectSymbol(")", "to close the call")
        expr = .call(name, args, span(name.range, close.range, name.range))
      } else {
        return expr
      }
    }
  }

  private mutating func parsePrimary() throws(Recover) -> Expr {
    let token = current
    switch token.kind {
    case .integer(let i):
      advance()
      return .literal(.int(i), token.range)
    case .rawString(let s):
      advance()
      return .literal(.string(s), token.range)
    case .string(let segments):
      advance()
      return try interpolated(segments, token.range)
    case .identifier(let name):
      switch name {
      case "true", "false":
        advance()
        return .literal(.bool(name == "true"), token.range)
      case "none":
        advance()
        return .literal(.null, token.range)
      case "if":
        advance()
        let condition = try parseExpression()
        guard current.isIdentifier("then") else { throw fail("expected 'then' after the condition") }
        advance()
        let thenValue = try parseExpression()
        guard current.isIdentifier("else") else { throw fail("expected 'else' in 'if … then … else …'") }
        advance()
        let elseValue = try parseExpression()
        return .conditional(
          condition: condition, then: thenValue, else: elseValue, span(token.range, elseValue.range, token.range))
      default:
        if Self.reservedWords.contains(name) { throw fail("expected a value, found '\(name)'") }
        advance()
        return .variable(Identifier(name, token.range))
      }
    case .symbol("("):
      advance()
      let inner = try parseExpression()
      _ = try expectSymbol(")", "to close the parenthesis")
      return inner
    case .symbol("["):
      advance()
      var items: [Expr] = []
      skipNewlines()
      while !current.isSymbol("]") {
        items.append(try parseExpression())
        skipNewlines()
        if current.isSymbol(",") {
          advance()
          skipNewlines()
        } else {
          break
        }
      }
      let close = try expectSymbol("]", "to close the list")
      return .list(items, span(token.range, close.range, token.range))
    case .symbol("{"):
      advance()
      var entries: [(key: String, value: Expr)] = []
      skipNewlines()
      while !current.isSymbol("}") {
        let key: String
        if let name = current.identifier {
          key = name
          advance()
        } else {
          key = try parsePlainString("a map key").0
        }
        guard current.isSymbol(":") || current.isSymbol("=") else { throw fail("expected ':' after the map key") }
        advance()
        entries.append((key, try parseExpression()))
        skipNewlines()
        if current.isSymbol(",") {
          advance()
          skipNewlines()
        } else {
          break
        }
      }
      let close = try expectSymbol("}", "to close the map")
      return .map(entries, span(token.range, close.range, token.range))
    default:
      throw fail("expected a value, found \(token.kind)")
    }
  }

  private mutating func interpolated(_ segments: [StringSegment], _ range: SourceRange) throws(Recover) -> Expr {
    var parts: [InterpolatedPart] = []
    for segment in segments {
      switch segment {
      case .text(let t): parts.append(.text(t))
      case .interpolation(let source, let r):
        if source.trimmedSpaces.isEmpty {
          throw fail("empty '{{ }}' in string", at: r)
        }
        let (expr, diags) = Parser.parseExpression(text: source, file: r.file, line: r.line, column: r.column)
        diagnostics += diags
        guard let expr else { throw Recover() }
        parts.append(.expr(expr))
      }
    }
    if parts.isEmpty { return .literal(.string(""), range) }
    if parts.count == 1, case .text(let t) = parts[0] { return .literal(.string(t), range) }
    return .interpolated(parts, range)
  }

  /// The range from the start of `a` to the end of `b` when both are on one line.
  private func span(_ a: SourceRange, _ b: SourceRange, _ fallback: SourceRange) -> SourceRange {
    guard a.file == b.file, a.line == b.line, b.column >= a.column else { return a.line == b.line ? fallback : a }
    return SourceRange(start: a.start, length: b.column + b.length - a.column)
  }
}

