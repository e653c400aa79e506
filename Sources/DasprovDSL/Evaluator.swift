import DasprovCore

/// Where expressions find variables.
public protocol VariableScope: AnyObject {
  /// The value of `name`, or nil when it is not defined here. May throw while computing a lazy
  /// default (e.g. a default that refers to an undefined variable).
  func lookup(_ name: String) throws(Diagnostic) -> Value?
  /// Every name defined, for "did you mean" suggestions and static checks.
  var names: Set<String> { get }
}

/// Fixed values, such as facts or a loop variable.
public final class ValueScope: VariableScope {
  public var values: [String: Value]
  public let parent: VariableScope?

  public init(_ values: [String: Value], parent: VariableScope? = nil) {
    self.values = values
    self.parent = parent
  }

  public func lookup(_ name: String) throws(Diagnostic) -> Value? {
    if let v = values[name] { return v }
    return try parent?.lookup(name)
  }

  public var names: Set<String> { Set(values.keys).union(parent?.names ?? []) }
}

/// Declared defaults evaluated on first use, in the scope that sees every layer above them.
///
/// Module defaults may refer to inventory variables and to each other
/// (`var das_address = ansible_host ?? inventory_hostname`), so they are expressions, evaluated
/// lazily against the whole host scope (`resolver`) with cycle detection.
public final class LazyScope: VariableScope {
  private let expressions: [String: Expr]
  private var cache: [String: Value] = [:]
  private var evaluating: [String] = []
  /// The full scope defaults are evaluated in (normally the host's outermost scope).
  public weak var resolver: VariableScope?
  public let functions: FunctionTable

  public init(_ expressions: [String: Expr], functions: FunctionTable = FunctionTable()) {
    self.expressions = expressions
    self.functions = functions
  }

  public func lookup(_ name: String) throws(Diagnostic) -> Value? {
    if let v = cache[name] { return v }
    guard let expr = expressions[name] else { return nil }
    if evaluating.contains(name) {
      let cycle = (evaluating.drop { $0 != name } + [name]).joined(separator: " → ")
      throw Diagnostic.error("variable '\(name)' depends on itself: \(cycle)", at: expr.range)
    }
    evaluating.append(name)
    defer { evaluating.removeLast() }
    let value = try Evaluator(scope: resolver ?? self, functions: functions).evaluate(expr)
    cache[name] = value
    return value
  }

  public var names: Set<String> { Set(expressions.keys) }
}

/// A stack of scopes, searched first to last: e.g. loop variable, play vars, inventory, defaults.
public final class ChainScope: VariableScope {
  public let scopes: [VariableScope]
  public init(_ scopes: [VariableScope]) { self.scopes = scopes }

  public func lookup(_ name: String) throws(Diagnostic) -> Value? {
    for scope in scopes {
      if let v = try scope.lookup(name) { return v }
    }
    return nil
  }

  public var names: Set<String> { scopes.reduce(into: Set<String>()) { $0.formUnion($1.names) } }
}

/// Functions callable from expressions. The engine adds functions that need the inventory.
public struct FunctionTable: Sendable {
  public typealias Function = @Sendable ([Value], SourceRange) throws(Diagnostic) -> Value
  public var functions: [String: Function]

  public init(extra: [String: Function] = [:]) {
    functions = Builtins.all.merging(extra) { _, b in b }
  }

  public var names: [String] { functions.keys.sorted() }
}

/// Evaluates expressions to values. Every error names the expression's source range.
public struct Evaluator {
  public let scope: VariableScope
  public let functions: FunctionTable

  public init(scope: VariableScope, functions: FunctionTable = FunctionTable()) {
    self.scope = scope
    self.functions = functions
  }

  public func evaluate(_ expr: Expr) throws(Diagnostic) -> Value {
    switch expr {
    case .literal(let v, _):
      return v
    case .interpolated(let parts, _):
      var out = ""
      for part in parts {
        switch part {
        case .text(let t): out += t
        case .expr(let e):
          let v = try evaluate(e)
          if case .null = v {
            throw Diagnostic.error("'\(e.structuralKey)' is none and cannot be put into a string", at: e.range)
          }
          out += v.description
        }
      }
      return .string(out)
    case .variable(let id):
      if let v = try scope.lookup(id.name) { return v }
      throw Diagnostic.error(
        "undefined variable '\(id.name)'\(Suggestion.didYouMean(id.name, in: scope.names))", at: id.range,
        code: .undefinedVariable)
    case .member(let base, let member):
      let b = try evaluate(base)
      guard case .map(let m) = b else {
        throw Diagnostic.error(
          "'\(base.structuralKey)' is \(b.typeWithArticle), it has no '\(member.name)'", at: member.range)
      }
      guard let v = m[member.name] else {
        throw Diagnostic.error(
          "'\(base.structuralKey)' has no '\(member.name)'\(Suggestion.didYouMean(member.name, in: m.keys))",
          at: member.range)
      }
      return v
    case .index(let base, let indexExpr, let range):
      let b = try evaluate(base)
      let i = try evaluate(indexExpr)
      switch (b, i) {
      case (.list(let items), .int(let n)):
        let k = n < 0 ? items.count + n : n
        guard k >= 0, k < items.count else {
          throw Diagnostic.error("index \(n) is out of range: '\(base.structuralKey)' has \(items.count) items", at: range)
        }
        return items[k]
      case (.map(let m), .string(let key)):
        guard let v = m[key] else {
          throw Diagnostic.error("'\(base.structuralKey)' has no key '\(key)'\(Suggestion.didYouMean(key, in: m.keys))", at: range)
        }
        return v
      default:
        throw Diagnostic.error("cannot index \(b.typeWithArticle) with \(i.typeWithArticle)", at: range)
      }
    case .call(let name, let args, let range):
      guard let f = functions.functions[name.name] else {
        throw Diagnostic.error(
          "unknown function '\(name.name)'\(Suggestion.didYouMean(name.name, in: functions.names))", at: name.range)
      }
      var values: [Value] = []
      for a in args { values.append(try evaluate(a)) }
      return try f(values, range)
    case .unary(let op, let operand, let range):
      let v = try evaluate(operand)
      if op == "not" { return .bool(!v.isTruthy) }
      guard let n = v.intValue else { throw Diagnostic.error("cannot negate \(v.typeWithArticle)", at: range) }
      guard n != .min else { throw Diagnostic.error("integer overflow: -(\(n))", at: range) }
      return .int(-n)
    case .binary(let op, let lhs, let rhs, let range):
      return try binary(op, lhs, rhs, range)
    case .list(let items, _):
      var out: [Value] = []
      for i in items { out.append(try evaluate(i)) }
      return .list(out)
    case .map(let entries, _):
      var out: [String: Value] = [:]
      for e in entries { out[e.key] = try evaluate(e.value) }
      return .map(out)
    case .conditional(let c, let t, let e, _):
      return try evaluate(c).isTruthy ? evaluate(t) : evaluate(e)
    }
  }

  private func binary(_ op: String, _ lhs: Expr, _ rhs: Expr, _ range: SourceRange) throws(Diagnostic) -> Value {
    switch op {
    case "??":
      // The left side may be undefined or none; either way the right side is the value.
      if let v = try? evaluateIfDefined(lhs), !v.isNull { return v }
      return try evaluate(rhs)
    case "and":
      let l = try evaluate(lhs)
      return l.isTruthy ? .bool(try evaluate(rhs).isTruthy) : .bool(false)
    case "or":
      let l = try evaluate(lhs)
      return l.isTruthy ? .bool(true) : .bool(try evaluate(rhs).isTruthy)
    default: break
    }
    let l = try evaluate(lhs)
    let r = try evaluate(rhs)
    switch op {
    case "==": return .bool(Self.equal(l, r))
    case "!=": return .bool(!Self.equal(l, r))
    case "in", "not in":
      let found: Bool
      switch r {
      case .list(let items): found = items.contains { Self.equal($0, l) }
      case .string(let s):
        guard case .string(let needle) = l else {
          throw Diagnostic.error("'in' on a string needs a string on the left, got \(l.typeWithArticle)", at: range)
        }
        found = s.contains(needle)
      case .map(let m):
        guard case .string(let key) = l else {
          throw Diagnostic.error("'in' on a map needs a string key, got \(l.typeWithArticle)", at: range)
        }
        found = m[key] != nil
      default:
        throw Diagnostic.error("'in' needs a list, string or map on the right, got \(r.typeWithArticle)", at: range)
      }
      return .bool(op == "in" ? found : !found)
    case "<", "<=", ">", ">=":
      let ordered: Bool
      if let a = Self.number(l), let b = Self.number(r) {
        ordered = op == "<" ? a < b : op == "<=" ? a <= b : op == ">" ? a > b : a >= b
      } else if case .string(let a) = l, case .string(let b) = r {
        ordered = op == "<" ? a < b : op == "<=" ? a <= b : op == ">" ? a > b : a >= b
      } else {
        throw Diagnostic.error("cannot compare \(l.typeWithArticle) with \(r.typeWithArticle)", at: range)
      }
      return .bool(ordered)
    case "+":
      switch (l, r) {
      case (.string(let a), .string(let b)) where Int(a) == nil || Int(b) == nil: return .string(a + b)
      case (.list(let a), .list(let b)): return .list(a + b)
      case (.map(let a), .map(let b)): return .map(a.merging(b) { _, n in n })
      default: break
      }
      return try arithmetic(op, l, r, range)
    case "-", "*", "/", "%":
      return try arithmetic(op, l, r, range)
    default:
      throw Diagnostic.error("unknown operator '\(op)'", at: range)
    }
  }

  private func evaluateIfDefined(_ e: Expr) throws(Diagnostic) -> Value? {
    try evaluate(e)
  }

  /// Integer arithmetic. Strings that hold integers count as integers, because INI `[group:vars]`
  /// values and environment-style settings often arrive as text (`das_port_offset=1`).
  private func arithmetic(_ op: String, _ l: Value, _ r: Value, _ range: SourceRange) throws(Diagnostic) -> Value {
    guard let a = l.intValue, let b = r.intValue else {
      throw Diagnostic.error("'\(op)' needs two numbers, got \(l.typeWithArticle) and \(r.typeWithArticle)", at: range)
    }
    let result: (partialValue: Int, overflow: Bool)
    switch op {
    case "+": result = a.addingReportingOverflow(b)
    case "-": result = a.subtractingReportingOverflow(b)
    case "*": result = a.multipliedReportingOverflow(by: b)
    case "/", "%":
      guard b != 0 else { throw Diagnostic.error("division by zero", at: range) }
      result = op == "/" ? a.dividedReportingOverflow(by: b) : a.remainderReportingOverflow(dividingBy: b)
    default: throw Diagnostic.error("unknown operator '\(op)'", at: range)
    }
    // A value from an inventory can be any size; overflow is the user's error, not a crash.
    guard !result.overflow else { throw Diagnostic.error("integer overflow: \(a) \(op) \(b)", at: range) }
    return .int(result.partialValue)
  }

  static func number(_ v: Value) -> Double? {
    switch v {
    case .int(let i): return Double(i)
    case .double(let d): return d
    default: return nil
    }
  }

  /// Equality with integers and doubles comparing by value.
  public static func equal(_ a: Value, _ b: Value) -> Bool {
    if let x = number(a), let y = number(b) { return x == y }
    return a == b
  }
}
