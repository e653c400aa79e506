import DasprovCore

/// Which parts of a value came from a secret: a vaulted string, a variable named like
/// `*password*`/`*secret*`, or a value computed from one of those. Each path leads from the
/// value to a secret part; the empty path means the whole value.
///
/// Taint follows the data, not the decisions: `{{ db_password | upper }}` is a secret,
/// `{{ 'set' if db_password else 'unset' }}` is not — otherwise every `set` in every log would
/// be masked.
struct Taint: Sendable, Hashable {
  var paths: Set<[TaggedLeaf.Step]>

  static let clean = Taint(paths: [])
  static let whole = Taint(paths: [[]])

  var isClean: Bool { paths.isEmpty }
  var isWhole: Bool { paths.contains([]) }
  /// A value computed from this one: secret as a whole if any part was.
  var collapsed: Taint { isClean ? .clean : .whole }

  /// The taint of the part at `step`.
  func child(_ step: TaggedLeaf.Step) -> Taint {
    if isWhole { return .whole }
    return Taint(paths: Set(paths.compactMap { $0.first == step ? Array($0.dropFirst()) : nil }))
  }

  /// This taint for a value placed at `step` inside another.
  func under(_ step: TaggedLeaf.Step) -> Taint { Taint(paths: Set(paths.map { [step] + $0 })) }

  func union(_ other: Taint) -> Taint { Taint(paths: paths.union(other.paths)) }
}

/// What an expression evaluates to: a value, Jinja's undefined (which `default` and
/// `is defined` accept and everything else refuses), or Ansible's lazy `hostvars`.
enum TemplateValue {
  case value(Value, Taint)
  case undefined(DiagnosticMessage)
  /// `hostvars`: every host's variables, each templated only when read.
  case hostvars
  /// `hostvars[name]`: one host's variables, templated in that host's context when read.
  case host(String)

  static func plain(_ v: Value) -> TemplateValue { .value(v, .clean) }
}

/// What a template can read besides its own loop and `set` variables.
protocol TemplateContext: AnyObject {
  /// A variable, or a magic variable, of the host being templated.
  func lookup(_ name: String) throws(TemplateError) -> TemplateValue
  func hasHost(_ name: String) -> Bool
  /// `hostvars[host][name]`, templated as Ansible does: in `host`'s context, without `hostvars`.
  func hostVariable(_ host: String, _ name: String) throws(TemplateError) -> TemplateValue
  /// Every variable of `host`, templated (what `{{ hostvars['h'] }}` prints).
  func hostObject(_ host: String) throws(TemplateError) -> (Value, Taint)
  /// Every host, for `{{ hostvars }}` as a whole.
  var hostNames: [String] { get }
}

/// Renders parsed templates with Jinja's semantics as Ansible configures them.
struct TemplateEvaluator {
  let context: TemplateContext
  /// `{% for %}` and `{% set %}` variables, innermost scope last.
  private var locals: [[String: (Value, Taint)]] = [[:]]

  init(context: TemplateContext) { self.context = context }

  /// The template's result as Ansible 2.19 returns it: a template whose output is one value
  /// (`"{{ port }}"`, `"{% if x %}{{ port }}{% endif %}"`) keeps that value's type; several
  /// pieces are joined as text (`None` as nothing); no output at all is `None`.
  mutating func render(_ nodes: [TemplateNode]) throws(TemplateError) -> (Value, Taint) {
    var chunks: [(Value, Taint)] = []
    try emit(nodes, into: &chunks)
    if chunks.isEmpty { return (.null, .clean) }
    if chunks.count == 1 { return chunks[0] }
    var text = ""
    var taint = Taint.clean
    for (v, t) in chunks {
      if !v.isNull { text += Py.str(v) }
      taint = taint.union(t)
    }
    return (.string(text), taint.collapsed)
  }

  private mutating func emit(_ nodes: [TemplateNode], into chunks: inout [(Value, Taint)]) throws(TemplateError) {
    for node in nodes {
      switch node {
      case .text(let t):
        if !t.isEmpty { chunks.append((.string(t), .clean)) }
      case .output(let e):
        chunks.append(try materialize(evaluate(e)))
      case .assign(let name, let e):
        locals[locals.count - 1][name] = try materialize(evaluate(e))
      case .conditional(let branches, let otherwise):
        var taken = otherwise
        for (condition, body) in branches {
          let (test, _) = try materialize(evaluate(condition))
          if Py.truthy(test) {
            taken = body
            break
          }
        }
        locals.append([:])
        defer { locals.removeLast() }
        try emit(taken, into: &chunks)
      case .loop(let targets, let over, let body, let otherwise):
        let (sequence, taint) = try materialize(evaluate(over))
        let items = try Self.iterate(sequence)
        for (n, item) in items.enumerated() {
          var scope: [String: (Value, Taint)] = [
            "loop": (
              .map([
                "index": .int(n + 1), "index0": .int(n), "first": .bool(n == 0), "last": .bool(n == items.count - 1),
                "length": .int(items.count), "revindex": .int(items.count - n), "revindex0": .int(items.count - n - 1),
              ]), .clean
            )
          ]
          let itemTaint = taint.child(.index(n))
          if targets.count == 1 {
            scope[targets[0]] = (item, itemTaint)
          } else {
            guard case .list(let parts) = item, parts.count == targets.count else {
              throw Py.invalid("cannot unpack \(Py.typeName(item)) into \(targets.count) loop variables")
            }
            for (k, name) in targets.enumerated() { scope[name] = (parts[k], itemTaint.child(.index(k))) }
          }
          locals.append(scope)
          defer { locals.removeLast() }
          try emit(body, into: &chunks)
        }
        if items.isEmpty { try emit(otherwise, into: &chunks) }
      }
    }
  }

  /// Python's iteration: a list's items, a dict's keys, a string's characters.
  static func iterate(_ v: Value) throws(TemplateError) -> [Value] {
    switch v {
    case .list(let l): return l
    case .map(let m): return PyFormat.sortedKeys(m.keys).map(Value.string)
    case .string(let s): return s.map { .string(String($0)) }
    default: throw Py.invalid("\(Py.typeName(v)) object is not iterable")
    }
  }

  /// The value, or the error an undefined value is when it is used.
  func materialize(_ v: TemplateValue) throws(TemplateError) -> (Value, Taint) {
    switch v {
    case .value(let value, let taint): return (value, taint)
    case .undefined(let message): throw TemplateError(.undefined, message)
    case .host(let name): return try context.hostObject(name)
    case .hostvars:
      var out: [String: Value] = [:]
      var taint = Taint.clean
      for name in context.hostNames {
        let (v, t) = try context.hostObject(name)
        out[name] = v
        taint = taint.union(t.under(.key(name)))
      }
      return (.map(out), taint)
    }
  }

  mutating func evaluate(_ e: TemplateExpr) throws(TemplateError) -> TemplateValue {
    switch e {
    case .literal(let v): return .plain(v)
    case .name(let n):
      for scope in locals.reversed() { if let (v, t) = scope[n] { return .value(v, t) } }
      return try context.lookup(n)
    case .list(let items):
      var out: [Value] = []
      var taint = Taint.clean
      for item in items {
        let (v, t) = try materialize(evaluate(item))
        taint = taint.union(t.under(.index(out.count)))
        out.append(v)
      }
      return .value(.list(out), taint)
    case .dict(let pairs):
      var out: [String: Value] = [:]
      var taint = Taint.clean
      for (k, v) in pairs {
        let key = Py.str(try materialize(evaluate(k)).0)
        let (value, t) = try materialize(evaluate(v))
        out[key] = value
        taint = taint.union(t.under(.key(key)))
      }
      return .value(.map(out), taint)
    case .attribute(let base, let name):
      return try item(evaluate(base), .string(name))
    case .item(let base, let key):
      let b = try evaluate(base)
      return try item(b, materialize(evaluate(key)).0)
    case .slice(let base, let start, let stop, let step):
      let (v, t) = try materialize(evaluate(base))
      func bound(_ e: TemplateExpr?) throws(TemplateError) -> Int? {
        guard let e else { return nil }
        let (b, _) = try materialize(evaluate(e))
        if b.isNull { return nil }
        guard case .int(let i) = b else { throw Py.invalid("slice indices must be integers") }
        return i
      }
      return .value(try Self.slice(v, try bound(start), try bound(stop), try bound(step)), t.collapsed)
    case .method(let base, let name, let args):
      return try method(evaluate(base), name, arguments(args))
    case .filter(let base, let name, let args):
      return try filter(name, evaluate(base), arguments(args))
    case .test(let base, let name, let args, let negated):
      let result = try test(name, evaluate(base), arguments(args))
      return .plain(.bool(negated ? !result : result))
    case .not(let inner):
      return .plain(.bool(!Py.truthy(try materialize(evaluate(inner)).0)))
    case .negate(let inner):
      let (v, t) = try materialize(evaluate(inner))
      switch v {
      case .int(let i): return .value(.int(-i), t)
      case .double(let d): return .value(.double(-d), t)
      case .bool(let b): return .value(.int(b ? -1 : 0), t)
      default: throw Py.invalid("bad operand type for unary -: \(Py.typeName(v))")
      }
    case .and(let l, let r):
      let left = try materialize(evaluate(l))
      return Py.truthy(left.0) ? try evaluate(r) : .value(left.0, left.1)
    case .or(let l, let r):
      let left = try materialize(evaluate(l))
      return Py.truthy(left.0) ? .value(left.0, left.1) : try evaluate(r)
    case .conditional(let value, let condition, let otherwise):
      if Py.truthy(try materialize(evaluate(condition)).0) { return try evaluate(value) }
      guard let otherwise else { return .undefined("the inline if-expression evaluated to false and has no else") }
      return try evaluate(otherwise)
    case .binary(let op, let l, let r):
      let (a, ta) = try materialize(evaluate(l))
      let (b, tb) = try materialize(evaluate(r))
      switch op {
      case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .isIn, .notIn:
        return .plain(.bool(try Py.compare(op, a, b)))
      default:
        return .value(try Py.arithmetic(op, a, b), ta.union(tb).collapsed)
      }
    }
  }

  /// Evaluated arguments of a filter, test or method.
  struct Arguments {
    var positional: [TemplateValue]
    var named: [String: TemplateValue]

    /// The argument at `index`, or named `name`; `nil` when not given.
    func at(_ index: Int, _ name: String) -> TemplateValue? {
      index < positional.count ? positional[index] : named[name]
    }
  }

  private mutating func arguments(_ args: TemplateArguments) throws(TemplateError) -> Arguments {
    var positional: [TemplateValue] = []
    for e in args.positional { positional.append(try evaluate(e)) }
    var named: [String: TemplateValue] = [:]
    for (name, e) in args.named { named[name] = try evaluate(e) }
    return Arguments(positional: positional, named: named)
  }

  /// Jinja's `getattr`/`getitem`: a key of a map, an index of a list or string, a host of
  /// `hostvars`, a variable of `hostvars[host]`; anything missing is undefined.
  func item(_ base: TemplateValue, _ key: Value) throws(TemplateError) -> TemplateValue {
    switch base {
    case .undefined: return base
    case .hostvars:
      guard case .string(let name) = key, context.hasHost(name) else {
        return .undefined("hostvars[\(Py.repr(key))] is undefined: no such host")
      }
      return .host(name)
    case .host(let host):
      guard case .string(let name) = key else { return .undefined("hostvars['\(bareName: host)'][\(Py.repr(key))] is undefined") }
      return try context.hostVariable(host, name)
    case .value(let v, let taint):
      switch (v, key) {
      case (.map(let m), _):
        let k = Py.str(key)
        guard let found = m[k] else { return .undefined("dict object has no attribute \(name: k)") }
        return .value(found, taint.child(.key(k)))
      case (.list(let l), .int(let i)):
        let at = i < 0 ? l.count + i : i
        guard l.indices.contains(at) else { return .undefined("list index \(i) out of range") }
        return .value(l[at], taint.child(.index(at)))
      case (.string(let s), .int(let i)):
        let chars = Array(s)
        let at = i < 0 ? chars.count + i : i
        guard chars.indices.contains(at) else { return .undefined("string index \(i) out of range") }
        return .value(.string(String(chars[at])), taint.collapsed)
      default:
        return .undefined("\(Py.typeName(v)) object has no attribute \(Py.repr(key))")
      }
    }
  }

  /// Python slicing of a list or string.
  static func slice(_ v: Value, _ start: Int?, _ stop: Int?, _ step: Int?) throws(TemplateError) -> Value {
    let step = step ?? 1
    guard step != 0 else { throw Py.invalid("slice step cannot be zero") }
    func indices(_ count: Int) -> [Int] {
      func clamp(_ i: Int?, _ fallback: Int) -> Int {
        guard var i else { return fallback }
        if i < 0 { i += count }
        return step > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
      }
      var out: [Int] = []
      var i = clamp(start, step > 0 ? 0 : count - 1)
      let end = clamp(stop, step > 0 ? count : -1)
      while step > 0 ? i < end : i > end {
        out.append(i)
        i += step
      }
      return out
    }
    switch v {
    case .list(let l): return .list(indices(l.count).map { l[$0] })
    case .string(let s):
      let chars = Array(s)
      return .string(String(indices(chars.count).map { chars[$0] }))
    default: throw Py.invalid("\(Py.typeName(v)) object is not subscriptable")
    }
  }
}
