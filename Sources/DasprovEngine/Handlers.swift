import DasprovCore
import DasprovDSL
import DasprovTasks

/// Handlers and pre-flight checks of a play, evaluated for one host: what the restart phase
/// runs, and what planning must know about it up front (the server's account).
struct HostHandlers {
  let host: HostSpec
  let play: Play
  let world: World

  /// The context a handler's or check's statements evaluate in: the play's variables for the
  /// host, without facts (they run after planning, whatever the facts said).
  func context(for decl: HandlerDecl, named name: String, in module: Module) -> TaskContext {
    let vars = HostVariables(host: host, play: play, world: world)
    let task = TaskDecl(
      name: name, nameRange: decl.name.range, kind: decl.kind, target: nil, when: nil, loop: nil, statements: decl.statements,
      notify: [], tags: [], range: decl.range)
    return TaskContext(task: task, hostName: host.name, scope: vars.root, functions: world.functions, facts: nil, templates: module)
  }

  /// The address a `service` handler's health port is checked on when it names none.
  var defaultAddress: String {
    let vars = HostVariables(host: host, play: play, world: world)
    return (try? vars.root.lookup("das_address"))??.description ?? host.vars["ansible_host"]?.description ?? host.name
  }

  func action(_ name: String, _ decl: HandlerDecl, in module: Module) throws(Diagnostic) -> HandlerAction {
    try HandlerKinds.resolve(decl, context: context(for: decl, named: name, in: module), defaultAddress: defaultAddress)
  }

  func check(_ decl: HandlerDecl, in module: Module) throws(Diagnostic) -> CheckAction {
    try CheckKinds.resolve(decl, context: context(for: decl, named: decl.name.name, in: module))
  }

  /// The accounts of the play's `service` handlers that name one, by handler name. A handler
  /// that does not evaluate here is left out: the validator reports it, and its restart fails.
  func accounts() -> [String: ServiceAccountSpec] {
    var out: [String: ServiceAccountSpec] = [:]
    for (name, (decl, module)) in world.project.handlers(of: play) {
      if case .restart(let spec)? = try? action(name, decl, in: module), let account = spec.account { out[name] = account }
    }
    return out
  }
}
