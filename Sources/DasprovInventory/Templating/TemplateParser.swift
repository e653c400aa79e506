import DasprovCore

/// Parses a template into nodes, with Jinja2's expression grammar (see `TemplateExpr`).
///
/// `{% if %}`, `{% for %}` and `{% set %}` are the blocks inventories use; any other tag, and any
/// filter or test dasprov does not implement, is a syntax error, as an unknown filter is in
/// Ansible — reported before any host is touched.
struct TemplateParser {
  private var pieces: [TemplatePiece]
  private var p = 0

  static func parse(_ text: String) throws(TemplateError) -> [TemplateNode] {
    var lexer = TemplateLexer(text)
    var parser = TemplateParser(pieces: try lexer.pieces())
    let (nodes, end) = try parser.nodes(until: [])
    if let end { throw TemplateError(.syntax, "unexpected {% \(bareName: end) %}") }
    return nodes
  }

  private init(pieces: [TemplatePiece]) { self.pieces = pieces }

  /// Nodes up to a statement starting with one of `enders` (consumed; its tokens follow in
  /// `pending`), or to the end of the template.
  private var pending: ExpressionParser?

  private mutating func nodes(until enders: Set<String>) throws(TemplateError) -> ([TemplateNode], String?) {
    var out: [TemplateNode] = []
    while p < pieces.count {
      let piece = pieces[p]
      p += 1
      switch piece {
      case .text(let t):
        out.append(.text(t))
      case .output(let tokens):
        var e = ExpressionParser(tokens)
        let expr = try e.expression()
        try e.expectEnd()
        out.append(.output(expr))
      case .statement(let tokens):
        var e = ExpressionParser(tokens)
        guard case .name(let keyword)? = e.next() else { throw TemplateError(.syntax, "a {% %} tag without a name") }
        if enders.contains(keyword) {
          pending = e
          return (out, keyword)
        }
        out.append(try statement(keyword, &e))
      }
    }
    if !enders.isEmpty {
      throw TemplateError(.syntax, "missing {% \(bareName: enders.contains("endif") ? "endif" : "endfor") %}")
    }
    return (out, nil)
  }

  private mutating func statement(_ keyword: String, _ e: inout ExpressionParser) throws(TemplateError) -> TemplateNode {
    switch keyword {
    case "if":
      var branches: [(TemplateExpr, [TemplateNode])] = []
      var condition = try e.expression()
      try e.expectEnd()
      while true {
        let (body, end) = try nodes(until: ["elif", "else", "endif"])
        branches.append((condition, body))
        var rest = pending!
        switch end {
        case "elif":
          condition = try rest.expression()
          try rest.expectEnd()
        case "else":
          try rest.expectEnd()
          let (otherwise, _) = try nodes(until: ["endif"])
          try pending!.expectEnd()
          return .conditional(branches, otherwise: otherwise)
        default:
          try rest.expectEnd()
          return .conditional(branches, otherwise: [])
        }
      }
    case "for":
      var targets: [String] = []
      repeat {
        guard case .name(let n)? = e.next() else { throw TemplateError(.syntax, "expected a loop variable after {% for") }
        targets.append(n)
      } while e.accept(.op(","))
      guard e.accept(.name("in")) else { throw TemplateError(.syntax, "expected 'in' in {% for %}") }
      let over = try e.expression(allowConditional: false)
      try e.expectEnd()
      let (body, end) = try nodes(until: ["else", "endfor"])
      try pending!.expectEnd()
      var otherwise: [TemplateNode] = []
      if end == "else" {
        (otherwise, _) = try nodes(until: ["endfor"])
        try pending!.expectEnd()
      }
      return .loop(targets: targets, over: over, body: body, otherwise: otherwise)
    case "set":
      guard case .name(let n)? = e.next(), e.accept(.op("=")) else {
        throw TemplateError(.syntax, "expected {% set name = value %}")
      }
      let value = try e.expression()
      try e.expectEnd()
      return .assign(n, value)
    default:
      throw TemplateError(.syntax, "{% \(bareName: keyword) %} is not supported in inventory values (dasprov renders {% if %}, {% for %} and {% set %})")
    }
  }
}

/// Jinja2's expression grammar over one tag's tokens.
struct ExpressionParser {
  private let tokens: [TemplateToken]
  private var k = 0
  /// Nesting of brackets and sub-expressions; deeper input is refused rather than risk the stack.
  private var depth = 0
  static let maxDepth = 64

  init(_ tokens: [TemplateToken]) { self.tokens = tokens }

  mutating func next() -> TemplateToken? {
    guard k < tokens.count else { return nil }
    k += 1
    return tokens[k - 1]
  }

  private var peek: TemplateToken? { k < tokens.count ? tokens[k] : nil }
  private var peekSecond: TemplateToken? { k + 1 < tokens.count ? tokens[k + 1] : nil }

  mutating func accept(_ t: TemplateToken) -> Bool {
    guard peek == t else { return false }
    k += 1
    return true
  }

  private mutating func expect(_ t: TemplateToken) throws(TemplateError) {
    guard accept(t) else { throw unexpected(expected: Self.spell(t)) }
  }

  mutating func expectEnd() throws(TemplateError) {
    if peek != nil { throw unexpected(expected: nil) }
  }

  private func unexpected(expected: String?) -> TemplateError {
    let found = peek.map(Self.spell) ?? "end of the tag"
    return TemplateError(.syntax, "unexpected \(found)\(expected.map { ", expected \($0)" } ?? "")")
  }

  private static func spell(_ t: TemplateToken) -> String {
    switch t {
    case .name(let n): return "'\(n)'"
    case .string: return "a string"
    case .int(let i): return "\(i)"
    case .float(let d): return "\(d)"
    case .op(let o): return "'\(o)'"
    }
  }

  /// `a if cond else b`, or the or-expression.
  mutating func expression(allowConditional: Bool = true) throws(TemplateError) -> TemplateExpr {
    depth += 1
    defer { depth -= 1 }
    guard depth <= Self.maxDepth else { throw TemplateError(.syntax, "expressions nest more than \(Self.maxDepth) deep") }
    let value = try or()
    guard allowConditional, accept(.name("if")) else { return value }
    let condition = try or()
    let otherwise = accept(.name("else")) ? try expression() : nil
    return .conditional(value, condition: condition, otherwise: otherwise)
  }

  private mutating func or() throws(TemplateError) -> TemplateExpr {
    var left = try and()
    while accept(.name("or")) { left = .or(left, try and()) }
    return left
  }

  private mutating func and() throws(TemplateError) -> TemplateExpr {
    var left = try not()
    while accept(.name("and")) { left = .and(left, try not()) }
    return left
  }

  private mutating func not() throws(TemplateError) -> TemplateExpr {
    if accept(.name("not")) {
      depth += 1
      defer { depth -= 1 }
      guard depth <= Self.maxDepth else { throw TemplateError(.syntax, "expressions nest more than \(Self.maxDepth) deep") }
      return .not(try not())
    }
    return try comparison()
  }

  /// Chained as in Python: `a < b < c` is `a < b and b < c`.
  private mutating func comparison() throws(TemplateError) -> TemplateExpr {
    let first = try sum()
    var result: TemplateExpr?
    var left = first
    while true {
      let op: TemplateOperator
      if case .op(let o)? = peek, let c = TemplateOperator(rawValue: o), [.equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual].contains(c) {
        k += 1
        op = c
      } else if accept(.name("in")) {
        op = .isIn
      } else if peek == .name("not"), peekSecond == .name("in") {
        k += 2
        op = .notIn
      } else {
        break
      }
      let right = try sum()
      let term = TemplateExpr.binary(op, left, right)
      result = result.map { .and($0, term) } ?? term
      left = right
    }
    return result ?? first
  }

  private mutating func sum() throws(TemplateError) -> TemplateExpr {
    var left = try concat()
    while case .op(let o)? = peek, o == "+" || o == "-" {
      k += 1
      left = .binary(o == "+" ? .add : .subtract, left, try concat())
    }
    return left
  }

  private mutating func concat() throws(TemplateError) -> TemplateExpr {
    var left = try product()
    while accept(.op("~")) { left = .binary(.concat, left, try product()) }
    return left
  }

  private mutating func product() throws(TemplateError) -> TemplateExpr {
    var left = try power()
    while case .op(let o)? = peek, let op = TemplateOperator(rawValue: o), [.multiply, .divide, .floorDivide, .modulo].contains(op) {
      k += 1
      left = .binary(op, left, try power())
    }
    return left
  }

  private mutating func power() throws(TemplateError) -> TemplateExpr {
    var left = try unary()
    while accept(.op("**")) { left = .binary(.power, left, try unary()) }
    return left
  }

  /// Jinja applies filters and tests to the signed operand: `-1|abs` is `(-1)|abs`.
  private mutating func unary() throws(TemplateError) -> TemplateExpr {
    if accept(.op("-")) { return try filters(.negate(try unary(withFilters: false))) }
    if accept(.op("+")) { return try filters(try unary(withFilters: false)) }
    return try filters(try postfix(try primary()))
  }

  private mutating func unary(withFilters: Bool) throws(TemplateError) -> TemplateExpr {
    depth += 1
    defer { depth -= 1 }
    guard depth <= Self.maxDepth else { throw TemplateError(.syntax, "expressions nest more than \(Self.maxDepth) deep") }
    if accept(.op("-")) { return .negate(try unary(withFilters: false)) }
    if accept(.op("+")) { return try unary(withFilters: false) }
    return try postfix(try primary())
  }

  private mutating func filters(_ base: TemplateExpr) throws(TemplateError) -> TemplateExpr {
    var node = base
    while true {
      if accept(.op("|")) {
        let name = try dottedName()
        guard TemplateEvaluator.filterNames.contains(name) else {
          throw TemplateError(.syntax, "no filter named \(name: name) (dasprov renders \(TemplateEvaluator.filterNames.sorted().joined(separator: ", ")))")
        }
        node = .filter(node, name, peek == .op("(") ? try arguments() : TemplateArguments())
      } else if accept(.name("is")) {
        let negated = accept(.name("not"))
        let name = try dottedName()
        guard TemplateEvaluator.testNames.contains(name) else {
          throw TemplateError(.syntax, "no test named \(name: name) (dasprov has \(TemplateEvaluator.testNames.sorted().joined(separator: ", ")))")
        }
        var args = TemplateArguments()
        if peek == .op("(") {
          args = try arguments()
        } else if let t = peek, Self.startsTestArgument(t) {
          args.positional = [try postfix(try primary())]
        }
        node = .test(node, name, args, negated: negated)
      } else {
        return node
      }
    }
  }

  /// `is sameas false`, `is divisibleby 3`: a test may take one bare argument.
  private static func startsTestArgument(_ t: TemplateToken) -> Bool {
    switch t {
    case .string, .int, .float: return true
    case .name(let n): return !["else", "or", "and", "is", "in", "not", "if"].contains(n)
    case .op(let o): return o == "[" || o == "{"
    }
  }

  /// A filter or test name; collection names (`ansible.builtin.default`) keep their last part.
  private mutating func dottedName() throws(TemplateError) -> String {
    guard case .name(var n)? = next() else { throw unexpected(expected: "a filter or test name") }
    while peek == .op("."), case .name(let part)? = peekSecond {
      k += 2
      n = part
    }
    return n
  }

  private mutating func arguments() throws(TemplateError) -> TemplateArguments {
    try expect(.op("("))
    var args = TemplateArguments()
    while !accept(.op(")")) {
      if case .name(let n)? = peek, peekSecond == .op("=") {
        k += 2
        args.named.append((n, try expression()))
      } else {
        guard args.named.isEmpty else { throw TemplateError(.syntax, "a positional argument after a named one") }
        args.positional.append(try expression())
      }
      if !accept(.op(",")) {
        try expect(.op(")"))
        break
      }
    }
    return args
  }

  private mutating func postfix(_ base: TemplateExpr) throws(TemplateError) -> TemplateExpr {
    var node = base
    while true {
      if accept(.op(".")) {
        switch next() {
        case .name(let n)?:
          node = peek == .op("(") ? .method(node, n, try arguments()) : .attribute(node, n)
        case .int(let i)?:
          node = .item(node, .literal(.int(i)))
        default:
          throw TemplateError(.syntax, "expected a name after '.'")
        }
      } else if accept(.op("[")) {
        node = try subscripted(node)
      } else if peek == .op("(") {
        throw TemplateError(.syntax, "calling functions is not supported in inventory values")
      } else {
        return node
      }
    }
  }

  private mutating func subscripted(_ base: TemplateExpr) throws(TemplateError) -> TemplateExpr {
    var parts: [TemplateExpr?] = [nil]
    var isSlice = false
    while !accept(.op("]")) {
      if accept(.op(":")) {
        isSlice = true
        parts.append(nil)
        continue
      }
      guard parts[parts.count - 1] == nil else { throw unexpected(expected: "']'") }
      parts[parts.count - 1] = try expression()
    }
    guard isSlice else {
      guard let key = parts[0] else { throw TemplateError(.syntax, "an empty subscript []") }
      return .item(base, key)
    }
    guard parts.count <= 3 else { throw TemplateError(.syntax, "a slice has at most two ':'") }
    return .slice(base, start: parts[0], stop: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil)
  }

  private mutating func primary() throws(TemplateError) -> TemplateExpr {
    guard let t = next() else { throw unexpected(expected: "a value") }
    switch t {
    case .int(let i): return .literal(.int(i))
    case .float(let d): return .literal(.double(d))
    case .string(var text):
      while case .string(let more)? = peek {
        k += 1
        text += more
      }
      return .literal(.string(text))
    case .name(let n):
      switch n {
      case "true", "True": return .literal(.bool(true))
      case "false", "False": return .literal(.bool(false))
      case "none", "None": return .literal(.null)
      default: return .name(n)
      }
    case .op("("):
      if accept(.op(")")) { return .list([]) }
      let first = try expression()
      guard accept(.op(",")) else {
        try expect(.op(")"))
        return first
      }
      var items = [first]
      while !accept(.op(")")) {
        items.append(try expression())
        if !accept(.op(",")) { try expect(.op(")")); break }
      }
      return .list(items)
    case .op("["):
      var items: [TemplateExpr] = []
      while !accept(.op("]")) {
        items.append(try expression())
        if !accept(.op(",")) { try expect(.op("]")); break }
      }
      return .list(items)
    case .op("{"):
      var pairs: [(TemplateExpr, TemplateExpr)] = []
      while !accept(.op("}")) {
        let key = try expression()
        try expect(.op(":"))
        pairs.append((key, try expression()))
        if !accept(.op(",")) { try expect(.op("}")); break }
      }
      return .dict(pairs)
    default:
      k -= 1
      throw unexpected(expected: "a value")
    }
  }
}
