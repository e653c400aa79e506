import DasprovCore

/// A name as written in the source, with where it was written.
public struct Identifier: Sendable, Hashable, CustomStringConvertible {
  public var name: String
  public var range: SourceRange
  public init(_ name: String, _ range: SourceRange) {
    self.name = name
    self.range = range
  }
  public var description: String { name }
}

/// An expression node. Every node carries its source range for error messages.
public indirect enum Expr: Sendable, Hashable {
  case literal(Value, SourceRange)
  /// A double-quoted string with interpolations; plain strings are `.literal`.
  case interpolated([InterpolatedPart], SourceRange)
  case variable(Identifier)
  case member(Expr, Identifier)
  case index(Expr, Expr, SourceRange)
  case call(Identifier, [Expr], SourceRange)
  case unary(String, Expr, SourceRange)
  case binary(String, Expr, Expr, SourceRange)
  case list([Expr], SourceRange)
  case map([(key: String, value: Expr)], SourceRange)
  case conditional(condition: Expr, then: Expr, else: Expr, SourceRange)

  public var range: SourceRange {
    switch self {
    case .literal(_, let r), .interpolated(_, let r), .index(_, _, let r), .call(_, _, let r),
      .unary(_, _, let r), .binary(_, _, _, let r), .list(_, let r), .map(_, let r),
      .conditional(_, _, _, let r):
      return r
    case .variable(let id): return id.range
    case .member(let base, let id):
      let start = base.range
      let length = start.line == id.range.line ? id.range.column + id.range.length - start.column : start.length
      return SourceRange(start: start.start, length: length)
    }
  }

  /// The names this expression reads from its scope (not member names, not call names).
  public var freeVariables: [Identifier] {
    var out: [Identifier] = []
    collectVariables(into: &out)
    return out
  }

  func collectVariables(into out: inout [Identifier]) {
    switch self {
    case .literal: break
    case .interpolated(let parts, _):
      for case .expr(let e) in parts { e.collectVariables(into: &out) }
    case .variable(let id): out.append(id)
    case .member(let base, _): base.collectVariables(into: &out)
    case .index(let a, let b, _):
      a.collectVariables(into: &out)
      b.collectVariables(into: &out)
    case .call(_, let args, _): for a in args { a.collectVariables(into: &out) }
    case .unary(_, let e, _): e.collectVariables(into: &out)
    case .binary(_, let a, let b, _):
      a.collectVariables(into: &out)
      b.collectVariables(into: &out)
    case .list(let items, _): for i in items { i.collectVariables(into: &out) }
    case .map(let entries, _): for e in entries { e.value.collectVariables(into: &out) }
    case .conditional(let c, let t, let e, _):
      c.collectVariables(into: &out)
      t.collectVariables(into: &out)
      e.collectVariables(into: &out)
    }
  }

  public static func == (a: Expr, b: Expr) -> Bool { a.structuralKey == b.structuralKey }
  public func hash(into h: inout Hasher) { h.combine(structuralKey) }

  /// A printable form used for equality and in messages.
  public var structuralKey: String {
    switch self {
    case .literal(let v, _): return v.jsonString()
    case .interpolated(let parts, _):
      return "\"" + parts.map { part -> String in
        switch part {
        case .text(let t): return t
        case .expr(let e): return "{{ \(e.structuralKey) }}"
        }
      }.joined() + "\""
    case .variable(let id): return id.name
    case .member(let b, let id): return "\(b.structuralKey).\(id.name)"
    case .index(let a, let b, _): return "\(a.structuralKey)[\(b.structuralKey)]"
    case .call(let f, let args, _): return "\(f.name)(\(args.map(\.structuralKey).joined(separator: ", ")))"
    case .unary(let op, let e, _): return "(\(op) \(e.structuralKey))"
    case .binary(let op, let a, let b, _): return "(\(a.structuralKey) \(op) \(b.structuralKey))"
    case .list(let items, _): return "[\(items.map(\.structuralKey).joined(separator: ", "))]"
    case .map(let entries, _):
      return "{\(entries.map { "\($0.key): \($0.value.structuralKey)" }.joined(separator: ", "))}"
    case .conditional(let c, let t, let e, _):
      return "(if \(c.structuralKey) then \(t.structuralKey) else \(e.structuralKey))"
    }
  }
}

public enum InterpolatedPart: Sendable, Hashable {
  case text(String)
  case expr(Expr)
}

/// `keyword [positional] (modifier expr)* [= value]` — one line inside a task or handler block.
///
/// The parser knows only this shape; each task kind says which keywords and modifiers it takes.
public struct Statement: Sendable, Hashable {
  public var keyword: Identifier
  public var positional: Expr?
  public var modifiers: [Modifier]
  public var value: Expr?
  public var range: SourceRange

  public struct Modifier: Sendable, Hashable {
    public var name: Identifier
    public var value: Expr
  }

  public func modifier(_ name: String) -> Modifier? { modifiers.first { $0.name.name == name } }
}

/// `task "name" KIND [TARGET] [when EXPR] [for NAME in EXPR] { statements }`
public struct TaskDecl: Sendable, Hashable {
  public var name: String
  public var nameRange: SourceRange
  public var kind: Identifier
  public var target: Expr?
  public var when: Expr?
  public var loop: Loop?
  public var statements: [Statement]
  public var notify: [Identifier]
  public var tags: [Identifier]
  public var range: SourceRange

  public struct Loop: Sendable, Hashable {
    public var variable: Identifier
    public var sequence: Expr
  }

  public init(
    name: String, nameRange: SourceRange, kind: Identifier, target: Expr?, when: Expr?, loop: Loop?,
    statements: [Statement], notify: [Identifier], tags: [Identifier], range: SourceRange
  ) {
    self.name = name
    self.nameRange = nameRange
    self.kind = kind
    self.target = target
    self.when = when
    self.loop = loop
    self.statements = statements
    self.notify = notify
    self.tags = tags
    self.range = range
  }
}

/// `handler NAME ["description"] { statements }` — run once per host when a task notifies it.
public struct HandlerDecl: Sendable, Hashable {
  public var name: Identifier
  public var description: String?
  public var kind: Identifier
  public var statements: [Statement]
  public var range: SourceRange
}

/// `[secret] var NAME [= EXPR]` — a module default or a required variable.
public struct VarDecl: Sendable, Hashable {
  public var name: Identifier
  public var value: Expr?
  public var secret: Bool
  public var range: SourceRange
}

/// `play NAME { hosts PATTERN; serial N; vars { … }; use MODULE … }`
public struct PlayDecl: Sendable, Hashable {
  public var name: Identifier
  public var hosts: Expr?
  public var serial: Expr?
  public var vars: [VarDecl]
  public var modules: [Identifier]
  public var tags: [Identifier]
  public var range: SourceRange
}

/// What one `.dasp` file declares. Which declarations a file may hold depends on its role
/// (defaults, tasks, handlers, play, site); the loader checks that.
public struct SourceFile: Sendable {
  public var path: String
  public var vars: [VarDecl] = []
  public var tasks: [TaskDecl] = []
  public var handlers: [HandlerDecl] = []
  /// `check NAME KIND { … }`: pre-flight checks run on every host before the first restart.
  public var checks: [HandlerDecl] = []
  public var plays: [PlayDecl] = []
  /// `import "file.dasp"` lines of a site playbook, in order.
  public var imports: [(path: String, range: SourceRange)] = []
  /// `restart order EXPR` of a site playbook.
  public var restartOrder: Expr?

  public init(path: String) { self.path = path }
}
