import DasprovCore

/// Inventory values with their Jinja templates rendered, as Ansible renders a variable when a
/// play reads it: `db_password: "{{ vault_db_password }}"` becomes the vaulted password.
///
/// Ansible templates lazily, so a broken value only fails the task that reads it; dasprov renders
/// every variable of every host before any host is touched, and reports every undefined name,
/// loop and syntax error at once, at the place the value is set. `inventory --list`/`--host` do
/// not template (neither does ansible-inventory); the other commands use these values.
///
/// The renderer is dasprov's own small Jinja evaluator rather than the project's Stencil
/// templates: Stencil is not Jinja (no `~`, `is defined`, `hostvars['x']`, Python methods, Ansible
/// filters), renders undefined names as empty text and always yields text, where Ansible keeps a
/// lone `{{ port }}` an integer — and lazy resolution with loop detection needs the references
/// anyway. It also keeps DasprovInventory free of template dependencies.
extension Inventory {
  /// Every host's variables, templated. Strings tagged `!unsafe` (and bytes literals) are never
  /// rendered; keys are not rendered, as in Ansible.
  ///
  /// A value computed from a secret — a vaulted string, a variable named like `*password*` or
  /// `*secret*` — is a secret: it is registered with `secrets`, like the inventory's other
  /// secrets.
  public func templatedHostVars(secrets: SecretMasker) throws(DiagnosticList) -> [String: [String: Value]] {
    let resolver = VariableResolver(self)
    var out: [String: [String: Value]] = [:]
    var failures: [TemplateError] = []
    for host in hosts {
      // Most values are no template at all: they are their own result, and any secret in them
      // was registered when the inventory was read.
      guard host.vars.values.contains(where: Self.hasTemplate) else {
        out[host.name] = host.vars
        continue
      }
      var vars: [String: Value] = [:]
      for name in PyFormat.sortedKeys(host.vars.keys) {
        if let raw = host.vars[name], !Self.hasTemplate(raw) {
          vars[name] = raw
          continue
        }
        do throws(TemplateError) {
          let (value, taint) = try resolver.resolve(.init(host: host.name, name: name, withHostvars: true))
          vars[name] = value
          Self.registerSecrets(in: value, taint, with: secrets)
        } catch {
          failures.append(error)
        }
      }
      out[host.name] = vars
    }
    if !failures.isEmpty { throw DiagnosticList(Self.diagnostics(failures)) }
    return out
  }

  private static func hasTemplate(_ v: Value) -> Bool {
    switch v {
    case .string(let s): return TemplateLexer.isPossiblyTemplate(s)
    case .list(let items): return items.contains(where: hasTemplate)
    case .map(let m): return m.values.contains(where: hasTemplate)
    case .null, .bool, .int, .double: return false
    }
  }

  /// One diagnostic per problem and place, naming the hosts it affects (a group variable fails
  /// the same way for each host of the group).
  static func diagnostics(_ failures: [TemplateError]) -> [Diagnostic] {
    struct Problem: Hashable {
      var origin: SourceRange?
      var variable: String?
      var message: DiagnosticMessage
      var kind: TemplateError.Kind
      var throughHostvars: Bool
    }
    var order: [Problem] = []
    var hosts: [Problem: [String]] = [:]
    for f in failures {
      let p = Problem(origin: f.origin, variable: f.variable, message: f.message, kind: f.kind, throughHostvars: f.throughHostvars)
      if hosts[p] == nil { order.append(p) }
      if let h = f.host, !(hosts[p]?.contains(h) ?? false) { hosts[p, default: []].append(h) }
    }
    order.sort { ($0.origin?.start.description ?? "") < ($1.origin?.start.description ?? "") }
    return order.map { p in
      let names = hosts[p] ?? []
      var which: DiagnosticMessage = ""
      for (n, h) in names.prefix(3).enumerated() { which = "\(which)\(n > 0 ? ", " : "")\(name: h)" }
      if names.count > 3 { which = "\(which) and \(names.count - 3) more" }
      let subject: DiagnosticMessage = names.count == 1 ? "host \(which)" : "hosts \(which)"
      let variable = p.variable ?? "?"
      let via = p.throughHostvars ? ", read through hostvars" : ""
      let message: DiagnosticMessage
      switch p.kind {
      case .undefined: message = "\(p.message) in the value of \(name: variable) (\(subject)\(via))"
      case .loop: message = "\(p.message) (\(subject)\(via))"
      case .syntax, .invalid: message = "cannot template the value of \(name: variable) (\(subject)\(via)): \(p.message)"
      }
      return .error(message, at: p.origin)
    }
  }

  private static func registerSecrets(in value: Value, _ taint: Taint, with masker: SecretMasker) {
    guard !taint.isClean else { return }
    func register(_ v: Value) {
      switch v {
      case .string(let s): masker.add(s)
      case .int, .double: masker.add(v.description)
      case .list(let items): items.forEach(register)
      case .map(let m): m.values.forEach(register)
      case .null, .bool: break
      }
    }
    func walk(_ v: Value, _ t: Taint) {
      guard !t.isClean else { return }
      if t.isWhole { return register(v) }
      switch v {
      case .list(let items): for (n, item) in items.enumerated() { walk(item, t.child(.index(n))) }
      case .map(let m): for (k, item) in m { walk(item, t.child(.key(k))) }
      default: break
      }
    }
    walk(value, taint)
  }
}
