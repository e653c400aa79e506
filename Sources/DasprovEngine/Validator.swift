import DasprovCore
import DasprovDSL
import DasprovTasks
import Foundation

/// Checks a project against an inventory before any host is contacted: task kinds, statement
/// shapes, handlers, modules, variables (per host), templates and their variables.
///
/// Problems that repeat on many hosts are reported once, with the hosts listed.
public struct Validator {
  let project: Project
  let world: World
  let hostsByPlay: [String: [HostSpec]]
  let selection: TagSelection

  /// Hosts whose out-of-range ports another check reports: their handlers are not evaluated.
  var portsReported: Set<String> = []

  public init(project: Project, world: World, hostsByPlay: [String: [HostSpec]], selection: TagSelection = TagSelection()) {
    self.project = project
    self.world = world
    self.hostsByPlay = hostsByPlay
    self.selection = selection
  }

  /// Collects problems keyed by place and message, so one error on 8 hosts prints once.
  struct Collector {
    /// Each distinct problem with the hosts it was found on, in the order first found.
    var entries: [(diagnostic: Diagnostic, hosts: [String])] = []
    var index: [String: Int] = [:]

    mutating func add(_ d: Diagnostic, host: String?) {
      let key = "\(d.range?.description ?? "-")|\(d.severity)|\(d.message)"
      let i = index[key] ?? entries.count
      if i == entries.count {
        index[key] = i
        entries.append((d, []))
      }
      if let host, !entries[i].hosts.contains(host) { entries[i].hosts.append(host) }
    }

    var diagnostics: [Diagnostic] {
      entries.map { entry in
        var (d, hosts) = entry
        if !hosts.isEmpty {
          let shown = hosts.prefix(4).joined(separator: ", ")
          let more = hosts.count > 4 ? " and \(hosts.count - 4) more" : ""
          d.message += " (on host\(hosts.count > 1 ? "s" : "") \(shown)\(more))"
        }
        return d
      }
    }
  }

  public func validate() -> [Diagnostic] {
    var c = Collector()
    staticChecks(&c)
    var memo: [NameChecksKey: [(Diagnostic, perHost: Bool)]] = [:]
    var hosts: [HostSpec] = []
    var playsOf: [String: [Play]] = [:]
    for play in project.plays {
      if ((try? Runner.hosts(of: play, in: world)) ?? []).isEmpty {
        c.add(.warning("play '\(play.name)' matches no host of the inventory", at: play.decl.name.range), host: nil)
      }
      for host in hostsByPlay[play.name] ?? [] {
        hostChecks(play, host, &c, &memo)
        if playsOf[host.name] == nil { hosts.append(host) }
        playsOf[host.name, default: []].append(play)
      }
    }
    for host in hosts { evaluationChecks(host, plays: playsOf[host.name] ?? [], &c) }
    return c.diagnostics
  }

  /// What the name checks of a play depend on: the names its hosts' inventories set.
  private struct NameChecksKey: Hashable {
    var play: String
    var names: Set<String>
  }

  // MARK: - Once per project

  private func staticChecks(_ c: inout Collector) {
    for module in project.modules.values.sorted(by: { $0.name < $1.name }) {
      let notifiable = Set(project.plays.filter { $0.modules.contains { $0 === module } }.flatMap { project.handlers(of: $0).keys })
      for (task, arguments) in zip(module.tasks, module.taskArguments) {
        guard let kind = TaskKinds.named(task.kind.name) else {
          c.add(.error("unknown task kind '\(task.kind.name)'\(Suggestion.didYouMean(task.kind.name, in: TaskKinds.names))", at: task.kind.range), host: nil)
          continue
        }
        if kind.target == nil, let t = task.target {
          c.add(.error("a \(kind.name) task takes no target", at: t.range), host: nil)
        } else if let target = kind.target, task.target == nil {
          c.add(.error("a \(kind.name) task needs \(target) after '\(kind.name)'", at: task.kind.range), host: nil)
        }
        if case .failure(let problems)? = arguments {
          for d in problems.diagnostics { c.add(d, host: nil) }
        }
        for n in task.notify where !notifiable.contains(n.name) {
          c.add(.error("unknown handler '\(n.name)'\(Suggestion.didYouMean(n.name, in: notifiable))", at: n.range), host: nil)
        }
      }
      for check in module.checks {
        guard let rules = CheckKinds.rules(for: check.kind.name) else {
          c.add(.error("unknown check kind '\(check.kind.name)'\(Suggestion.didYouMean(check.kind.name, in: CheckKinds.names))", at: check.kind.range), host: nil)
          continue
        }
        for d in StatementValidator.validate(check.statements, rules: rules, owner: "a \(check.kind.name) check", ownerRange: check.kind.range) {
          c.add(d, host: nil)
        }
      }
      var seen: [String: SourceRange] = [:]
      for h in module.handlers {
        if let first = seen[h.name.name] {
          c.add(.error("handler '\(h.name.name)' is defined twice", at: h.name.range, notes: [.note("first defined here", at: first)]), host: nil)
        }
        seen[h.name.name] = h.name.range
        guard let rules = HandlerKinds.rules(for: h.kind.name) else {
          c.add(.error("unknown handler kind '\(h.kind.name)'\(Suggestion.didYouMean(h.kind.name, in: HandlerKinds.names))", at: h.kind.range), host: nil)
          continue
        }
        for d in StatementValidator.validate(h.statements, rules: rules, owner: "a \(h.kind.name) handler", ownerRange: h.kind.range) {
          c.add(d, host: nil)
        }
      }
    }
    if let order = project.restartOrder, let first = world.hosts.first {
      let vars = HostVariables(host: first, play: nil, world: world)
      do throws(Diagnostic) {
        let names = try RestartOrder.names(order, scope: vars.root, functions: world.functions)
        let plays = project.plays.map(\.name)
        for n in names where !plays.contains(n) {
          c.add(.error("restart order names '\(n)', which is not a play\(Suggestion.didYouMean(n, in: plays)); plays are: \(plays.joined(separator: ", "))", at: order.range), host: nil)
        }
      } catch {
        c.add(error, host: nil)
      }
    }
  }

  // MARK: - Once per host

  /// The checks of names (required, undefined, templates' variables): hosts of a play whose
  /// inventories set the same names get the same answers, worked out once.
  private func hostChecks(
    _ play: Play, _ host: HostSpec, _ c: inout Collector, _ memo: inout [NameChecksKey: [(Diagnostic, perHost: Bool)]]
  ) {
    // Required variables: declared without a default and not set by the inventory.
    var missing: Set<String> = []
    for module in play.modules {
      for decl in module.defaults where decl.value == nil && host.vars[decl.name.name] == nil {
        if play.decl.vars.contains(where: { $0.name.name == decl.name.name }) { continue }
        missing.insert(decl.name.name)
        c.add(
          .error(
            "variable '\(decl.name.name)' is required by module '\(module.name)' but the inventory does not set it",
            at: decl.name.range, notes: host.location.map { [.note("host \(host.name) is declared here", at: $0)] } ?? []),
          host: host.name)
      }
    }
    let key = NameChecksKey(play: play.name, names: Set(host.vars.keys))
    if memo[key] == nil {
      var found = Collector()
      let vars = HostVariables(host: host, play: play, world: world)
      nameChecks(play, known: vars.root.names.union(host.vars.keys).union(missing), &found)
      memo[key] = found.entries.map { ($0.diagnostic, !$0.hosts.isEmpty) }
    }
    for (d, perHost) in memo[key] ?? [] { c.add(d, host: perHost ? host.name : nil) }
    handlerChecks(play, host, &c)
  }

  /// Handlers and checks evaluate without facts: every one of them can be evaluated now.
  private func handlerChecks(_ play: Play, _ host: HostSpec, _ c: inout Collector) {
    let handlers = HostHandlers(host: host, play: play, world: world)
    for module in play.modules {
      for h in module.handlers where HandlerKinds.rules(for: h.kind.name) != nil && !portsReported.contains(host.name) {
        do throws(Diagnostic) { _ = try handlers.action(h.name.name, h, in: module) } catch {
          if !isUndefinedVariable(error) { c.add(error, host: host.name) }
        }
      }
      for k in module.checks where CheckKinds.rules(for: k.kind.name) != nil {
        do throws(Diagnostic) { _ = try handlers.check(k, in: module) } catch {
          if !isUndefinedVariable(error) { c.add(error, host: host.name) }
        }
      }
    }
  }

  /// Undefined variables in the play's expressions and templates, given the names known.
  private func nameChecks(_ play: Play, known: Set<String>, _ c: inout Collector) {
    let host = "-"
    for module in play.modules {
      for task in module.tasks {
        var exprs: [Expr] = [task.target, task.when].compactMap { $0 }
        for s in task.statements {
          exprs += [s.positional, s.value].compactMap { $0 } + s.modifiers.map(\.value)
        }
        var bound = known
        if let loop = task.loop {
          checkUndefined([loop.sequence], known: known, host: host, &c)
          bound.insert(loop.variable.name)
        }
        checkUndefined(exprs, known: bound, host: host, &c)
        checkTemplates(task, module, known: bound, host: host, &c)
      }
      for h in module.handlers + module.checks {
        let exprs = h.statements.flatMap { s in [s.positional, s.value].compactMap { $0 } + s.modifiers.map(\.value) }
        checkUndefined(exprs, known: known, host: host, &c)
      }
    }
  }

  /// Evaluates what can be evaluated before contacting the host — paths, loops, conditions
  /// without facts — with the planner the run then reuses.
  private func evaluationChecks(_ host: HostSpec, plays: [Play], _ c: inout Collector) {
    switch world.preparation(of: host, plays: plays, selection: selection) {
    case .success(let prepared):
      for d in prepared.planner.argumentProblems(prepared.instances) where !isUndefinedVariable(d) { c.add(d, host: host.name) }
    case .failure(let error):
      for d in error.diagnostics where !isUndefinedVariable(d) { c.add(d, host: host.name) }
    }
  }

  private func isUndefinedVariable(_ d: Diagnostic) -> Bool { d.code == .undefinedVariable }

  private func checkUndefined(_ exprs: [Expr], known: Set<String>, host: String, _ c: inout Collector) {
    for e in exprs {
      for id in e.freeVariables where !known.contains(id.name) {
        c.add(.error("undefined variable '\(id.name)'\(Suggestion.didYouMean(id.name, in: known))", at: id.range, code: .undefinedVariable), host: host)
      }
    }
  }

  /// Templates named by a literal are compiled now and their variables checked per host.
  private func checkTemplates(_ task: TaskDecl, _ module: Module, known: Set<String>, host: String, _ c: inout Collector) {
    for s in task.statements where s.keyword.name == "from" || s.modifier("from") != nil {
      guard task.kind.name != "copy" else { continue }
      let expr = s.keyword.name == "from" ? s.positional : s.modifier("from")?.value
      guard let expr, case .literal(.string(let name), let range) = expr else { continue }
      switch module.compile(name) {
      case .failure(let list):
        if list.diagnostics.first?.range == nil {
          c.add(.error(list.diagnostics.first?.message ?? "template error", at: range), host: nil)
        } else {
          for d in list.diagnostics { c.add(d, host: nil) }
        }
      case .success(let template):
        for use in template.undefinedVariables(in: known) {
          c.add(.error("undefined variable '\(use.name)' in template\(Suggestion.didYouMean(use.name, in: known))", at: use.range, code: .undefinedVariable), host: host)
        }
      }
    }
  }
}

/// The role order of rolling restarts: a list of play names, or one comma-separated string
/// (the contract's `das_restart_order=analyzers,indexers,receivers,presenters`).
enum RestartOrder {
  static func names(_ expr: Expr, scope: VariableScope, functions: FunctionTable) throws(Diagnostic) -> [String] {
    let v = try Evaluator(scope: scope, functions: functions).evaluate(expr)
    switch v {
    case .list(let items): return items.map(\.description)
    case .string(let s):
      return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    default:
      throw Diagnostic.error("the restart order must be a list of play names, got \(v.typeWithArticle)", at: expr.range)
    }
  }
}
