import DasprovCore

/// Expressions, by precedence climbing: `??`, `or`, `and`, `not`, comparisons, sums, products,
/// unary minus, postfix access and calls, then primaries (literals, names, lists, maps,
/// `if … then … else`, and strings with `{{ }}` interpolations).
extension Parser {
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

  /// A string literal without interpolations, for names that must be known as written (an
  /// import path, a map key).
  mutating func parsePlainString(_ what: String) throws(Recover) -> (String, SourceRange) {
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
