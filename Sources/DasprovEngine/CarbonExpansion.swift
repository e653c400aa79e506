import DasprovCore
import DasprovDSL
import DasprovInventory
import Foundation

/// Carbon expands `${name}` system-property references in the XML it reads from
/// `repository/conf` (FACTS.md §10): a password holding `${user.home}` is silently changed, and
/// one with `}` before `${` stops the datasource at start. So an inventory value written into
/// such a file must not hold `${`: an error at the line that sets it, before any host is touched.
///
/// Which values reach Carbon's XML is derived from the content, not listed in Swift: the `xml`
/// and `template` tasks whose target on a host is `…/repository/conf/…xml`, the values their
/// statements and templates write, followed through play vars and module defaults and — where
/// they read other hosts (`groups`, `hostvars`, `host`) — through the members they read of
/// those hosts. A task added tomorrow that writes `SvnUser` is covered the day it is written; a
/// list of variable names beside the tasks would drift from them, and a marker in the modules
/// would be one more thing to forget. Only the product's rule lives here (which files Carbon
/// expands). `${…}` in the modules' own text and in the pristine files is the product's, and
/// is not checked.
///
/// Values are checked as templated, and reported where the `${` was written: the vault or vars
/// file's variable that a templated value reads it from.
struct CarbonExpansion {
  let project: Project
  let world: World
  let inventory: Inventory
  let hostsByPlay: [String: [HostSpec]]
  let selection: TagSelection

  static let marker = "${"
  /// Variables that give other hosts' objects: what is read of them is their members.
  static let hostObjectSources: Set<String> = ["groups", "hostvars", "host"]

  /// The conf file `path` names, as `repository/conf/…`, when Carbon reads it as XML.
  static func carbonConfFile(_ path: String) -> String? {
    guard path.hasSuffix(".xml"), let r = path.range(of: "/repository/conf/") else { return nil }
    return String(path[path.index(after: r.lowerBound)...])
  }

  /// What the tasks of one play write into Carbon's XML: variables of the play's own hosts, and
  /// variables of any host read through its host object; each with the first file it goes into.
  struct Reach {
    var own: [String: String] = [:]
    var anyHost: [String: String] = [:]
  }

  func diagnostics() -> [Diagnostic] {
    // Most inventories hold no `${` at all: nothing to derive then.
    var suspects: [String: [String]] = [:]
    for host in world.hosts {
      let names = host.vars.filter { $0.value.containsText(Self.marker) }.keys.sorted()
      if !names.isEmpty { suspects[host.name] = names }
    }
    guard !suspects.isEmpty else { return [] }
    var c = Validator.Collector()
    var files: [String: String] = [:]
    var anyHost: [String: String] = [:]
    var own: [(HostSpec, String)] = []
    for play in project.plays {
      let hosts = hostsByPlay[play.name] ?? []
      let reach = reach(of: play, hosts: hosts)
      for (name, file) in reach.own where files[name] == nil { files[name] = file }
      for (name, file) in reach.anyHost where anyHost[name] == nil { anyHost[name] = file }
      for host in hosts {
        for name in suspects[host.name] ?? [] where reach.own[name] != nil { own.append((host, name)) }
      }
    }
    for (name, file) in anyHost where files[name] == nil { files[name] = file }
    for (host, name) in own { report(host, name, file: files[name] ?? "repository/conf", &c) }
    for host in world.hosts {
      for name in suspects[host.name] ?? [] where anyHost[name] != nil { report(host, name, file: files[name] ?? "repository/conf", &c) }
    }
    return c.diagnostics
  }

  private func report(_ host: HostSpec, _ name: String, file: String, _ c: inout Validator.Collector) {
    let (holder, origin) =
      inventory.variable(holding: Self.marker, in: name, of: host.name, templated: host.vars) ?? (name, host.varOrigins[name])
    let through: DiagnosticMessage = holder == name ? "" : ", and \(bareName: name) is templated from it"
    var notes: [Diagnostic] = []
    if holder != name, let set = host.varOrigins[name] { notes.append(.note("\(name) is set here", at: set)) }
    c.add(
      .error(
        "\(bareName: holder) contains '${'\(through): Carbon expands ${…} in repository/conf XML (the product would read it as a system property), and this value goes into \(file); use a value without '${'",
        at: origin ?? host.location, notes: notes),
      host: host.name)
  }

  // MARK: - What the content writes

  /// The Carbon conf XML tasks of `play` (a task counts when, on any of the play's hosts, its
  /// target is one and its condition is not false), and the variables they write.
  func reach(of play: Play, hosts: [HostSpec]) -> Reach {
    var carbon: [(Module, TaskDecl, String)] = []
    var decided: Set<SourceRange> = []
    let candidates = play.modules.flatMap { m in m.tasks.filter { ["xml", "template"].contains($0.kind.name) } }
    for host in hosts where decided.count < candidates.count {
      let planner = HostPlanner(host: host, plays: [play], world: world, selection: selection)
      guard let instances = try? planner.instances() else { continue }
      for i in instances where ["xml", "template"].contains(i.task.kind.name) && !decided.contains(i.task.range) {
        // A path the validator rejects is its to report; here it writes nothing. Nor does a
        // task whose condition is false without facts (no SVN URL: no depsync values).
        guard let path = try? planner.context(i, facts: nil).targetPath(), let file = Self.carbonConfFile(path),
          (try? planner.condition(i, facts: nil)) != .no
        else { continue }
        decided.insert(i.task.range)
        carbon.append((i.module, i.task, file))
      }
    }
    var reach = Reach()
    for (module, task, file) in carbon {
      var members: Set<String> = []
      var readsHosts = false
      for name in close(roots(of: task, in: module, members: &members), play: play, members: &members, readsHosts: &readsHosts)
      where reach.own[name] == nil {
        reach.own[name] = file
      }
      guard readsHosts else { continue }
      // Other hosts' objects: their inventory variables and module defaults, without play vars.
      var followed: Set<String> = []
      while followed != members {
        let next = members.subtracting(followed)
        followed.formUnion(next)
        let seeds = next.sorted().flatMap { $0 == "address" ? ["das_address", "ansible_host"] : [$0] }
        var ignored = false
        for name in close(seeds, play: nil, members: &members, readsHosts: &ignored) where reach.anyHost[name] == nil {
          reach.anyHost[name] = file
        }
      }
    }
    return reach
  }

  /// The names whose values a task writes: its statements' values and its templates' variables;
  /// the loop variable stands for what its sequence holds.
  private func roots(of task: TaskDecl, in module: Module, members: inout Set<String>) -> [String] {
    var exprs: [Expr] = []
    var names: [String] = []
    for s in task.statements {
      exprs += [s.positional, s.value].compactMap { $0 } + s.modifiers.map(\.value)
      let from = s.keyword.name == "from" ? s.positional : s.modifier("from")?.value
      if case .literal(.string(let name), _)? = from, case .success(let template) = module.compile(name) {
        names += template.variables.map(\.name)
        members.formUnion(template.memberNames)
      }
    }
    for e in exprs {
      names += e.flowingVariables.map(\.name)
      members.formUnion(e.memberNames)
    }
    guard let loop = task.loop else { return names }
    members.formUnion(loop.sequence.memberNames)
    return names.flatMap { $0 == loop.variable.name ? loop.sequence.flowingVariables.map(\.name) : [$0] }
  }

  /// `roots` followed through play vars (for a play's own hosts), playbook globals and module
  /// defaults: every name whose inventory value would be written. Reading `groups`, `hostvars`
  /// or `host` sets `readsHosts`; members read on the way are added to `members`.
  private func close(_ roots: [String], play: Play?, members: inout Set<String>, readsHosts: inout Bool) -> [String] {
    var playVars: [String: Expr] = [:]
    for v in play?.decl.vars ?? [] { if let e = v.value { playVars[v.name.name] = e } }
    let defaults = self.defaults(play)
    var out: [String] = []
    var seen: Set<String> = []
    var queue = roots[...]
    while let name = queue.popFirst() {
      guard seen.insert(name).inserted else { continue }
      // Play vars win over the inventory: its value for the name is never read.
      if let e = playVars[name] {
        queue += e.flowingVariables.map(\.name)
        members.formUnion(e.memberNames)
        continue
      }
      if Self.hostObjectSources.contains(name) {
        readsHosts = true
        continue
      }
      out.append(name)
      if let e = defaults[name] {
        queue += e.flowingVariables.map(\.name)
        members.formUnion(e.memberNames)
      }
    }
    return out
  }

  /// Defaults as `HostVariables` layers them: playbook globals, then the modules (the play's,
  /// or every module for a host object), first declaration wins.
  private func defaults(_ play: Play?) -> [String: Expr] {
    let modules = play?.modules ?? project.modules.values.sorted { $0.name < $1.name }
    var out: [String: Expr] = [:]
    for decl in project.globals + modules.flatMap(\.defaults) {
      if let e = decl.value, out[decl.name.name] == nil { out[decl.name.name] = e }
    }
    return out
  }
}
