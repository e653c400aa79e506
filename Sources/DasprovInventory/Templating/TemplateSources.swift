import DasprovCore

/// Where a piece of a templated value was written: `db_password: "{{ vault_db_password }}"`
/// renders to the vaulted text, and a problem with that text is the vault file's line, not the
/// line that only refers to it.
extension Inventory {
  /// The variable of `host` whose value as written holds `text`, for the templated value of
  /// `name` (`templated`: the host's templated variables) — `name` itself when its text holds
  /// it, else the first variable its templates read (on the same host, followed through their
  /// templates) whose templated value holds it; `name` when none does (`text` was computed, or
  /// came through `hostvars`). Nil only for a variable the host does not have.
  public func variable(holding text: String, in name: String, of host: String, templated: [String: Value]) -> (name: String, origin: SourceRange?)? {
    guard let h = self.host(named: host), h.vars[name] != nil else { return nil }
    var visited: Set<String> = []
    func find(_ name: String) -> String? {
      guard visited.insert(name).inserted, let raw = h.vars[name] else { return nil }
      if raw.containsText(text) { return name }
      guard templated[name]?.containsText(text) ?? false else { return nil }
      for read in Self.namesRead(by: raw) {
        if let found = find(read) { return found }
      }
      return nil
    }
    let found = find(name) ?? name
    return (found, h.varOrigins[found])
  }

  /// The names the templates in a value read (every `name` in every expression, in order).
  static func namesRead(by value: Value) -> [String] {
    var out: [String] = []
    func walk(_ v: Value) {
      switch v {
      case .string(let s):
        guard TemplateLexer.isPossiblyTemplate(s), let nodes = try? TemplateParser.parse(s) else { return }
        for node in nodes { node.collectNames(into: &out) }
      case .list(let items): items.forEach(walk)
      case .map(let m): for k in m.keys.sorted() { walk(m[k]!) }
      case .null, .bool, .int, .double: break
      }
    }
    walk(value)
    return out
  }
}

extension TemplateNode {
  fileprivate func collectNames(into out: inout [String]) {
    switch self {
    case .text: break
    case .output(let e): e.collectNames(into: &out)
    case .conditional(let branches, let otherwise):
      for (condition, body) in branches {
        condition.collectNames(into: &out)
        for n in body { n.collectNames(into: &out) }
      }
      for n in otherwise { n.collectNames(into: &out) }
    case .loop(_, let over, let body, let otherwise):
      over.collectNames(into: &out)
      for n in body + otherwise { n.collectNames(into: &out) }
    case .assign(_, let e): e.collectNames(into: &out)
    }
  }
}

extension TemplateExpr {
  fileprivate func collectNames(into out: inout [String]) {
    switch self {
    case .literal: break
    case .name(let n): if !out.contains(n) { out.append(n) }
    case .list(let items): for i in items { i.collectNames(into: &out) }
    case .dict(let pairs):
      for (k, v) in pairs {
        k.collectNames(into: &out)
        v.collectNames(into: &out)
      }
    case .attribute(let base, _): base.collectNames(into: &out)
    case .item(let base, let key):
      base.collectNames(into: &out)
      key.collectNames(into: &out)
    case .slice(let base, let start, let stop, let step):
      for e in [base, start, stop, step].compactMap({ $0 }) { e.collectNames(into: &out) }
    case .method(let base, _, let args), .filter(let base, _, let args), .test(let base, _, let args, _):
      base.collectNames(into: &out)
      for a in args.positional + args.named.map(\.1) { a.collectNames(into: &out) }
    case .not(let e), .negate(let e): e.collectNames(into: &out)
    case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
      a.collectNames(into: &out)
      b.collectNames(into: &out)
    case .conditional(let value, let condition, let otherwise):
      value.collectNames(into: &out)
      condition.collectNames(into: &out)
      otherwise?.collectNames(into: &out)
    }
  }
}
