/// Which names can become part of an expression's value, as opposed to names it only tests.
///
/// The engine uses it to tell which inventory variables end up written into a file (Carbon
/// expands `${…}` in the XML it reads, so such a value must not hold `${`): in
/// `set "AutoCommit" = inventory_hostname == das_depsync_committer` neither name is written,
/// only a boolean; in `"jdbc:mysql://{{ db_host }}:{{ db_port }}/x"` both are.
extension Expr {
  /// The variables whose values (or parts of them) can appear in this expression's value:
  /// everything read except conditions, comparisons, `and`/`or`/`not` and arithmetic operands
  /// (which give booleans and numbers). Function arguments count: most functions return text
  /// made from them.
  public var flowingVariables: [Identifier] {
    var out: [Identifier] = []
    collectFlowing(into: &out)
    return out
  }

  private func collectFlowing(into out: inout [Identifier]) {
    switch self {
    case .literal: break
    case .interpolated(let parts, _):
      for case .expr(let e) in parts { e.collectFlowing(into: &out) }
    case .variable(let id): out.append(id)
    case .member(let base, _): base.collectFlowing(into: &out)
    case .index(let base, _, _): base.collectFlowing(into: &out)
    case .call(_, let args, _): for a in args { a.collectFlowing(into: &out) }
    case .unary: break
    case .binary(let op, let a, let b, _):
      // `??` gives one side, `+` joins text, lists and maps; the rest give booleans or numbers.
      guard op == "??" || op == "+" else { return }
      a.collectFlowing(into: &out)
      b.collectFlowing(into: &out)
    case .list(let items, _): for i in items { i.collectFlowing(into: &out) }
    case .map(let entries, _): for e in entries { e.value.collectFlowing(into: &out) }
    case .conditional(_, let t, let e, _):
      t.collectFlowing(into: &out)
      e.collectFlowing(into: &out)
    }
  }

  /// Every member name this expression reads, wherever it is: `m.das_address` and
  /// `hostvars[h]["das_home"]` give `das_address` and `das_home`.
  public var memberNames: Set<String> {
    var out: Set<String> = []
    collectMembers(into: &out)
    return out
  }

  private func collectMembers(into out: inout Set<String>) {
    switch self {
    case .literal, .variable: break
    case .interpolated(let parts, _):
      for case .expr(let e) in parts { e.collectMembers(into: &out) }
    case .member(let base, let id):
      out.insert(id.name)
      base.collectMembers(into: &out)
    case .index(let base, let key, _):
      if case .literal(.string(let name), _) = key { out.insert(name) }
      base.collectMembers(into: &out)
      key.collectMembers(into: &out)
    case .call(_, let args, _): for a in args { a.collectMembers(into: &out) }
    case .unary(_, let e, _): e.collectMembers(into: &out)
    case .binary(_, let a, let b, _):
      a.collectMembers(into: &out)
      b.collectMembers(into: &out)
    case .list(let items, _): for i in items { i.collectMembers(into: &out) }
    case .map(let entries, _): for e in entries { e.value.collectMembers(into: &out) }
    case .conditional(let c, let t, let e, _):
      c.collectMembers(into: &out)
      t.collectMembers(into: &out)
      e.collectMembers(into: &out)
    }
  }
}
