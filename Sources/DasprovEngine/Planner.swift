import DasprovCore
import DasprovDSL
import DasprovTasks
import Foundation

/// One task as it runs on one host: a declaration, the play and module it comes from, and its
/// loop item if the task loops.
public struct TaskInstance: Sendable {
  public var play: Play
  public var module: Module
  public var task: TaskDecl
  /// The task's statements as its kind decoded them; nil for an unknown kind.
  public var arguments: Result<any TaskArguments, DiagnosticList>?
  public var loopName: String?
  public var loopValue: Value?
  /// Where the task is in its module, and its item in the loop: with the play and module, what
  /// identifies this instance in a record's key.
  public var taskIndex = 0
  public var loopIndex: Int?

  /// `module : task name`, with the loop item when there is one.
  public var label: String {
    var l = "\(module.name) : \(task.name)"
    if let loopValue {
      // A loop over maps names its items by their `name` when they have one.
      let item = loopValue.mapValue?["name"]?.description ?? loopValue.description
      l += " (\(item))"
    }
    return l
  }

  var loop: (String, Value)? { loopName.flatMap { n in loopValue.map { (n, $0) } } }

  /// The decoded arguments; nil for an unknown kind; the first decoding problem otherwise.
  func decodedArguments() throws(Diagnostic) -> (any TaskArguments)? {
    switch arguments {
    case nil: return nil
    case .success(let arguments): return arguments
    case .failure(let list):
      throw list.diagnostics.first ?? .error("task '\(task.name)' cannot be read", at: task.range)
    }
  }
}

/// The outcome of planning one task on one host.
public struct PlannedTask: Sendable {
  public var instance: TaskInstance
  public var plan: TaskPlan
  /// Its index in the instances planned.
  public var index = -1
}

/// Which tasks run: `--tags` / `--skip-tags`. A task's tags are its own, its play's, and the
/// name of its module, so `--tags das-clustering` selects a whole module.
public struct TagSelection: Sendable, Hashable {
  public var only: Set<String>
  public var skip: Set<String>
  public init(only: Set<String> = [], skip: Set<String> = []) {
    self.only = only
    self.skip = skip
  }

  func selects(_ i: TaskInstance) -> Bool {
    let tags = Set(i.task.tags.map(\.name) + i.play.decl.tags.map(\.name) + [i.module.name])
    if !skip.isDisjoint(with: tags) { return false }
    return only.isEmpty || !only.isDisjoint(with: tags) || only.contains("all")
  }
}

/// What a host's plan needs before planning: from the host itself, and from other hosts.
public struct FactNeedsSummary: Sendable {
  /// Paths for the host's own fact round trip (with no `host`).
  public var requests: [FactRequest] = []
  public var probes: [ProbeRequest] = []
  /// Paths for other hosts' fact round trips, by host name.
  public var peers: [String: [FactRequest]] = [:]
  /// Each task instance's own requests of this host (by index; nil for a task whose condition
  /// is already false): which tasks touch which file, for the record's keys.
  public var byInstance: [[FactRequest]?] = []
  /// The accounts of the host's servers, by handler name: refused before any change when the
  /// server could not start so.
  public var accounts: [String: ServiceAccountSpec] = [:]

  public init() {}

  /// Adds a request for this host's own round trip.
  mutating func add(_ r: FactRequest) { Self.merge(r, into: &requests) }

  mutating func add(_ p: ProbeRequest) { if !probes.contains(p) { probes.append(p) } }

  /// Adds a request for another host's round trip.
  mutating func add(_ r: FactRequest, of host: String) {
    var own = r
    own.host = nil
    Self.merge(own, into: &peers[host, default: []])
  }

  /// Another host's requests, routed to this host's round trip.
  mutating func add(routed requests: [FactRequest]) { for r in requests { add(r) } }

  private static func merge(_ r: FactRequest, into requests: inout [FactRequest]) {
    if let i = requests.firstIndex(where: { $0.path == r.path }) {
      requests[i].needs.formUnion(r.needs)
    } else {
      requests.append(r)
    }
  }
}

/// What other hosts answered of a host's fact requests (`FactRequest(host:…)`), by host name,
/// and why for those that could not.
public struct PeerFacts: Sendable {
  public var facts: [String: HostFacts] = [:]
  public var problems: [String: String] = [:]
  /// Fetches the bytes of another host's file that its survey sent only the digest of.
  public var fetchContent: (@Sendable (_ host: String, _ path: String) -> Result<PathFacts, Diagnostic>)?
  public init() {}
}

/// Everything decided for one host: its planned tasks, the changes to make, the handlers to run.
public struct HostPlan: Sendable {
  public var host: HostSpec
  public var tasks: [PlannedTask] = []
  /// The changes of all tasks, in order, with repeated writes of one file merged into the last.
  public var changes: [Change] = []
  /// For each change, the indices (in `tasks`) of the tasks it carries out: a write that
  /// replaced earlier writes of the same file carries those tasks too.
  public var changeOwners: [[Int]] = []
  /// Handlers notified by changed tasks in this run.
  public var notified: [String] = []
  /// Handlers owed from an earlier run (markers found on the host).
  public var pending: [String] = []
  public var failure: Diagnostic?

  /// Handlers to run on this host, in declaration order of first mention.
  public var handlersToRun: [String] {
    var out: [String] = []
    for h in notified + pending where !out.contains(h) { out.append(h) }
    return out
  }
}

/// Plans one host: which tasks apply, what facts they need, and — given facts — what changes.
public final class HostPlanner: @unchecked Sendable {
  // Used by one thread at a time: the host's worker.
  public let host: HostSpec
  public let plays: [Play]
  let world: World
  let selection: TagSelection
  let wantDiff: Bool
  private var variables: [String: HostVariables] = [:]

  public init(host: HostSpec, plays: [Play], world: World, selection: TagSelection = TagSelection(), wantDiff: Bool = false) {
    self.host = host
    self.plays = plays
    self.world = world
    self.selection = selection
    self.wantDiff = wantDiff
  }

  /// With facts, the scope of the facts' variables last asked for: planning changes paths, never
  /// the facts expressions read, so one scope per play serves a whole plan.
  private var factVariables: [String: (HostFacts.Variables, HostVariables)] = [:]

  func variables(for play: Play, facts: HostFacts?) -> HostVariables {
    if let facts {
      let key = facts.variableInputs
      if let (k, v) = factVariables[play.name], k == key { return v }
      let v = HostVariables(host: host, play: play, world: world, facts: facts)
      factVariables[play.name] = (key, v)
      return v
    }
    if let v = variables[play.name] { return v }
    let v = HostVariables(host: host, play: play, world: world)
    variables[play.name] = v
    return v
  }

  /// Every task instance for this host, loops expanded (loops may not depend on facts).
  public func instances() throws(DiagnosticList) -> [TaskInstance] {
    var out: [TaskInstance] = []
    var sink = DiagnosticSink()
    for play in plays {
      for module in play.modules {
        for (index, (task, arguments)) in zip(module.tasks, module.taskArguments).enumerated() {
          var base = TaskInstance(play: play, module: module, task: task, arguments: arguments, loopName: nil, loopValue: nil)
          base.taskIndex = index
          guard selection.selects(base) else { continue }
          guard let loop = task.loop else {
            out.append(base)
            continue
          }
          let scope = variables(for: play, facts: nil).scope()
          do throws(Diagnostic) {
            let seq = try Evaluator(scope: scope, functions: world.functions).evaluate(loop.sequence)
            guard case .list(let items) = seq else {
              throw Diagnostic.error("'for' needs a list, got \(seq.typeWithArticle)", at: loop.sequence.range)
            }
            for (k, item) in items.enumerated() {
              var i = base
              i.loopName = loop.variable.name
              i.loopValue = item
              i.loopIndex = k
              out.append(i)
            }
          } catch {
            if FactGate.isNeedsFacts(error) {
              sink.error("a task's loop cannot depend on host facts", at: loop.sequence.range)
            } else {
              sink.add(error)
            }
          }
        }
      }
    }
    try sink.throwIfErrors()
    return out
  }

  func context(_ i: TaskInstance, facts: HostFacts?, peers: PeerFacts = PeerFacts()) -> TaskContext {
    let vars = variables(for: i.play, facts: facts)
    return TaskContext(
      task: i.task, hostName: host.name, scope: vars.scope(loop: i.loop), functions: world.functions, facts: facts,
      peerFacts: peers.facts, peerProblems: peers.problems, templates: i.module, wantDiff: wantDiff,
      fetchPeerContent: peers.fetchContent)
  }

  enum Condition { case yes, no, needsFacts }

  func condition(_ i: TaskInstance, facts: HostFacts?) throws(Diagnostic) -> Condition {
    guard let when = i.task.when else { return .yes }
    do throws(Diagnostic) {
      return try context(i, facts: facts).value(when).isTruthy ? .yes : .no
    } catch {
      if FactGate.isNeedsFacts(error) { return .needsFacts }
      throw error
    }
  }

  /// The paths and probes to gather, here and on other hosts. Tasks whose condition is already
  /// false need nothing.
  public func factNeeds(_ instances: [TaskInstance]) throws(DiagnosticList) -> FactNeedsSummary {
    var summary = FactNeedsSummary()
    summary.byInstance = Array(repeating: nil, count: instances.count)
    var sink = DiagnosticSink()
    for (index, i) in instances.enumerated() {
      do throws(Diagnostic) {
        guard try condition(i, facts: nil) != .no else { continue }
        // A task that cannot be decoded (the validator reports it) needs nothing; planning fails it.
        guard case .success(let arguments)? = i.arguments else { continue }
        let (paths, probes) = try arguments.factRequests(context(i, facts: nil))
        var own: [FactRequest] = []
        defer { summary.byInstance[index] = own }
        for p in paths {
          guard let peer = p.host, peer != host.name else {
            summary.add(p)
            var mine = p
            mine.host = nil
            own.append(mine)
            continue
          }
          guard world.host(peer) != nil else {
            throw Diagnostic.error(
              "task '\(i.task.name)' needs \(p.path) from host '\(peer)', which is not in the inventory", at: i.task.range)
          }
          summary.add(p, of: peer)
        }
        for p in probes { summary.add(p) }
      } catch {
        if FactGate.isNeedsFacts(error) {
          sink.error("the paths of task '\(i.task.name)' depend on host facts; they must come from variables", at: i.task.range)
        } else {
          sink.add(error)
        }
      }
    }
    for play in plays {
      for (name, account) in HostHandlers(host: host, play: play, world: world).accounts() where summary.accounts[name] == nil {
        summary.accounts[name] = account
      }
    }
    try sink.throwIfErrors()
    return summary
  }

  /// Type errors in task arguments that show without facts: every statement's expressions are
  /// evaluated (a value that needs facts is left for planning), and a `mode` must be octal.
  func argumentProblems(_ instances: [TaskInstance]) -> [Diagnostic] {
    var out: [Diagnostic] = []
    for i in instances {
      let context = context(i, facts: nil)
      do throws(Diagnostic) {
        guard try condition(i, facts: nil) != .no else { continue }
      } catch {
        continue
      }
      for statement in i.task.statements {
        for expr in [statement.positional, statement.value].compactMap({ $0 }) + statement.modifiers.map(\.value) {
          do throws(Diagnostic) { _ = try context.value(expr) } catch {
            if !FactGate.isNeedsFacts(error) { out.append(error) }
          }
        }
      }
      guard case .success(let arguments)? = i.arguments else { continue }
      do throws(Diagnostic) { try arguments.check(context) } catch {
        if !FactGate.isNeedsFacts(error) { out.append(error) }
      }
    }
    return out
  }

  /// Plans every task against the host's facts, and other hosts' answers to its requests.
  /// Later tasks see earlier tasks' results, so two tasks editing one file compose instead of
  /// overwriting each other.
  /// Tasks in `recorded` (indices into `instances`) edit a file the host's record vouches for:
  /// their target is as these inputs left it, so they are planned without its content.
  public func plan(
    _ instances: [TaskInstance], facts: HostFacts, peers: PeerFacts = PeerFacts(), handlers: Set<String>,
    recorded: Set<Int> = []
  ) -> HostPlan {
    var result = HostPlan(host: host)
    // A server that could not start as configured fails the host before any task: nothing is
    // worth changing on a node that will not come up (the runner stops the whole run).
    for (name, account) in facts.accounts.sorted(by: { $0.key < $1.key }) where handlers.contains(name) {
      if let problem = account.problem {
        result.failure = Diagnostic(.error, "\(host.name): DAS cannot start there as configured: \(problem)", code: .nodeCannotStart)
        return result
      }
    }
    var working = facts
    var changes: [Change] = []
    var owners: [Int] = []
    for (index, i) in instances.enumerated() {
      do throws(Diagnostic) {
        guard let arguments = try i.decodedArguments() else { continue }
        if try condition(i, facts: working) == .no {
          result.tasks.append(PlannedTask(instance: i, plan: .skipped("condition is false"), index: index))
          continue
        }
        let context = context(i, facts: working, peers: peers)
        let plan = try recorded.contains(index) ? arguments.planRecorded(context) : arguments.plan(context)
        Self.applyToFacts(plan.changes, &working)
        changes += plan.changes
        owners += Array(repeating: result.tasks.count, count: plan.changes.count)
        result.tasks.append(PlannedTask(instance: i, plan: plan, index: index))
        if plan.status == .changed {
          for n in i.task.notify where !result.notified.contains(n.name) { result.notified.append(n.name) }
        }
      } catch {
        result.failure = Diagnostic(
          .error, "\(host.name): task '\(i.label)' failed: \(error.message)", at: error.range, notes: error.notes, code: error.code)
        break
      }
    }
    (result.changes, result.changeOwners) = Self.coalesce(changes, owners: owners)
    result.pending = facts.pendingHandlers.filter { handlers.contains($0) }
    return result
  }

  /// Updates facts as if `changes` had been made.
  static func applyToFacts(_ changes: [Change], _ facts: inout HostFacts) {
    for c in changes {
      switch c {
      case .write(let path, let content, let mode, let owner, let group):
        let old = facts.path(path)
        facts.paths[path] = PathFacts(
          type: .file, mode: mode ?? old.mode, owner: owner ?? old.owner, group: group ?? old.group, size: content.count,
          sha256: SHA256.hex(content), content: content)
      case .upload(let path, _, let size, let sha, let mode, let owner, let group):
        facts.paths[path] = PathFacts(type: .file, mode: mode, owner: owner, group: group, size: size, sha256: sha)
      case .symlink(let path, let target):
        facts.paths[path] = PathFacts(type: .symlink, linkTarget: target)
      case .makeDirectory(let path, let mode, let owner, let group):
        facts.paths[path] = PathFacts(type: .directory, mode: mode, owner: owner, group: group)
      case .setAttributes(let path, let mode, let owner, let group):
        if mode != nil { facts.paths[path]?.mode = mode }
        if owner != nil { facts.paths[path]?.owner = owner }
        if group != nil { facts.paths[path]?.group = group }
      case .remove(let path, _, _):
        facts.paths[path] = .missing
      case .run:
        break
      }
    }
  }

  /// Drops a write of a file that a later write replaces anyway; the later write then also
  /// carries out the dropped write's task (`owners[i]` is the task of `changes[i]`).
  static func coalesce(_ changes: [Change], owners: [Int]) -> ([Change], [[Int]]) {
    var out: [Change] = []
    var outOwners: [[Int]] = []
    var carried: [String: [Int]] = [:]
    for (i, c) in changes.enumerated() {
      var mine = [owners[i]]
      if case .write(let p, _, _, _, _) = c {
        mine = (carried.removeValue(forKey: p) ?? []) + mine
        if changes[(i + 1)...].contains(where: { if case .write(p, _, _, _, _) = $0 { return true } else { return false } }) {
          carried[p] = mine
          continue
        }
      }
      out.append(c)
      outOwners.append(mine.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } })
    }
    return (out, outOwners)
  }
}
