import DasprovCore
import DasprovDSL
import DasprovSSH
import DasprovTasks
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum RunMode: String, Sendable { case apply, plan, rollback }

public struct RunOptions: Sendable {
  public var mode: RunMode
  public var selection = TagSelection()
  public var forks = 64
  public var diff = false
  public var maxFail = 0
  /// Skip the checks (`check` in handlers.dasp) that run before the first restart.
  public var skipPreflight = false

  public init(mode: RunMode) { self.mode = mode }
}

/// What happened on one host during a run.
public struct HostOutcome: Sendable {
  public var host: HostSpec
  public var unreachable: String?
  public var failure: String?
  public var plan: HostPlan?
  /// What the apply step made of the plan's changes (apply mode, once it started).
  public var applyProgress: ApplyProgress?
  /// Handlers this host still needs to run (notified now or pending from before).
  public var handlersDue: [String] = []
  public var restarted = 0
  public var restartFailure: String?
  public var restartSkipped: String?
  public var roundTrips = 0
  public var channels = 0
  public var seconds = 0.0

  public var failed: Bool { failure != nil || restartFailure != nil }
}

/// The result of a whole run.
public struct RunReport: Sendable {
  public var mode: RunMode
  public var outcomes: [HostOutcome]
  public var halted: String?
  public var seconds: Double

  /// 0 success, 2 plan found changes, 3 a host failed, was unreachable, or the roll halted.
  public var exitCode: Int32 {
    if outcomes.contains(where: { $0.unreachable != nil || $0.failed }) || halted != nil { return 3 }
    if mode == .plan, outcomes.contains(where: { !($0.plan?.changes.isEmpty ?? true) || !$0.handlersDue.isEmpty }) { return 2 }
    return 0
  }
}

/// Runs a project against hosts: connect and gather facts on every host at once, plan, apply,
/// then restart nodes play by play in the restart order, `serial` at a time, behind health gates.
public final class Runner: @unchecked Sendable {
  public let project: Project
  public let world: World
  /// The hosts this run touches (after `--limit`), in inventory order.
  public let targets: [HostSpec]
  public let options: RunOptions
  public let connector: Connector
  public let output: Output
  public let runID: String
  private let connections: ConnectionBroker
  /// Planning is CPU work (templates, libxml2 documents of every edited file): more hosts at
  /// once than cores gains no speed and multiplies the peak memory, so it takes a slot; the
  /// waits on the network (connect, facts, apply, restarts) do not.
  private let planningSlots = DispatchSemaphore(value: max(2, ProcessInfo.processInfo.activeProcessorCount))

  public init(project: Project, world: World, targets: [HostSpec], options: RunOptions, connector: Connector, output: Output) {
    self.project = project
    self.world = world
    self.targets = targets
    self.options = options
    self.connector = connector
    self.output = output
    self.connections = ConnectionBroker(connector: connector)
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyyMMdd'T'HHmmssSSS'Z'"
    self.runID = f.string(from: Date())
  }

  /// The plays a host is in, in playbook order.
  public func plays(of host: HostSpec) -> [Play] {
    project.plays.filter { play in (try? Runner.hosts(of: play, in: world).contains { $0.name == host.name }) ?? false }
  }

  /// Hosts a play targets, in inventory order.
  public static func hosts(of play: Play, in world: World) throws(Diagnostic) -> [HostSpec] {
    let pattern: String
    if let h = play.decl.hosts {
      let v = try Evaluator(scope: ValueScope([:]), functions: world.functions).evaluate(h)
      pattern = v.description
    } else {
      pattern = play.name
    }
    do {
      let names = try world.selectHosts(pattern)
      return world.hosts.filter { names.contains($0.name) }
    } catch {
      throw Diagnostic.error("hosts '\(pattern)': \(error)", at: play.decl.hosts?.range ?? play.decl.name.range)
    }
  }

  /// Runs one of dasprov's scripts on a host, with the host's state directory when the inventory
  /// sets `dasprov_state_dir`.
  func runScript(_ script: String, on host: HostSpec, _ connection: HostConnection, timeout: Double?) throws -> RemoteOutput {
    var text = script
    if let dir = host.vars["dasprov_state_dir"]?.description, !dir.isEmpty {
      text = "DASPROV_STATE_DIR=\(dir.shellQuoted); export DASPROV_STATE_DIR\n" + script
    }
    output.verbose(3, "\(host.name): script:\n\(RemoteScripts.forDisplay(text))")
    return try connection.runScript(text, timeout: timeout)
  }

  // MARK: - Run

  /// Hands the memory freed by the configuration phase back to the system before the long
  /// restart phase. glibc keeps it in per-thread arenas otherwise, and the pre-flight's threads
  /// would allocate fresh pages beside it: at 64 hosts that alone was ~8 MB of peak RSS.
  private func releaseFreedMemory() {
    #if canImport(Glibc)
    // malloc.h is not in Swift's Glibc module; glibc exports the function all the same.
    typealias MallocTrim = @convention(c) (Int) -> Int32
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
      _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    }
    #endif
  }

  public func run() -> RunReport {
    let start = Date()
    for host in targets {
      for play in plays(of: host) {
        for secret in HostVariables(host: host, play: play, world: world).secretValues() { output.masker.add(secret) }
      }
    }
    // Every host's needs first, so each host's one fact round trip also carries what other
    // hosts' plans ask of it.
    let cores = max(2, ProcessInfo.processInfo.activeProcessorCount)
    let preparations = SSHPool.run(targets, forks: cores) { [self] host in self.prepare(host) }
    let rounds = FactRounds(
      targets: zip(targets, preparations).map { ($0, try? $1.get().needs) }, world: world,
      gather: { [self] host, needs in self.gatherFacts(host, needs) })
    var results = SSHPool.run(Array(zip(targets, preparations)), forks: options.forks) { [self] host, preparation in
      let started = Date()
      var outcome = self.converge(host, preparation, rounds)
      outcome.seconds = Date().timeIntervalSince(started)
      self.progress(outcome)
      return outcome
    }
    var halted: String?
    if options.mode != .plan {
      releaseFreedMemory()
      halted = preflight(&results) ?? restartInOrder(&results)
    }
    for i in results.indices {
      if let c = connections.existing(results[i].host.name) {
        results[i].roundTrips = c.roundTrips
        results[i].channels = c.channelsOpened
      }
    }
    connections.closeAll()
    return RunReport(mode: options.mode, outcomes: results, halted: halted, seconds: Date().timeIntervalSince(start))
  }

  /// What planning `host` needs, before any host is contacted.
  private func prepare(_ host: HostSpec) -> Result<HostPreparation, DiagnosticList> {
    let planner = HostPlanner(host: host, plays: plays(of: host), world: world, selection: options.selection, wantDiff: options.diff)
    do throws(DiagnosticList) {
      let instances = options.mode == .rollback ? [] : try planner.instances()
      return .success(HostPreparation(planner: planner, instances: instances, needs: try planner.factNeeds(instances)))
    } catch {
      return .failure(error)
    }
  }

  /// One fact round trip on `host`: every fact in `needs`.
  private func gatherFacts(_ host: HostSpec, _ needs: FactNeedsSummary) -> Result<FactRounds.Gathered, FactRounds.Failure> {
    let connection: HostConnection
    do throws(ConnectError) {
      connection = try connections.connection(for: host)
    } catch {
      return .failure(.unreachable(error.message))
    }
    let script = RemoteScripts.factScript(requests: needs.requests, probes: needs.probes)
    do {
      let result = try runScript(script, on: host, connection, timeout: 120)
      guard result.status == 0 || !result.stdout.isEmpty else {
        return .failure(.failed("gathering facts failed (status \(result.status)): \(result.stderrTail)"))
      }
      let (facts, stateDirectory) = try RemoteScripts.parseFacts(result.stdout, requests: needs.requests, probes: needs.probes)
      return .success(FactRounds.Gathered(facts: facts, stateDirectory: stateDirectory))
    } catch {
      return .failure(.failed("gathering facts failed: \(error)"))
    }
  }

  /// Connect, gather facts, plan and (in apply mode) change one host.
  private func converge(_ host: HostSpec, _ preparation: Result<HostPreparation, DiagnosticList>, _ rounds: FactRounds) -> HostOutcome {
    var outcome = HostOutcome(host: host)
    let planner: HostPlanner
    let instances: [TaskInstance]
    let needs: FactNeedsSummary
    switch preparation {
    case .success(let p): (planner, instances, needs) = (p.planner, p.instances, p.needs)
    case .failure(let error):
      outcome.failure = error.diagnostics.map(\.description).joined(separator: "; ")
      return outcome
    }
    let connection: HostConnection
    do throws(ConnectError) {
      connection = try connections.connection(for: host)
    } catch {
      outcome.unreachable = error.message
      return outcome
    }
    if options.mode == .rollback { return rollback(host, connection, outcome) }

    // One round trip: every fact the plan needs (and what other hosts' plans need from here).
    let facts: HostFacts
    let stateDirectory: String
    switch rounds.own(host) {
    case .success(let gathered): (facts, stateDirectory) = (gathered.facts, gathered.stateDirectory)
    case .failure(.unreachable(let why)):
      outcome.unreachable = why
      return outcome
    case .failure(.failed(let why)):
      outcome.failure = why
      return outcome
    }
    // What this host's plan asked of other hosts, answered in their own round trips.
    var peers = PeerFacts()
    for peer in needs.peers.keys {
      switch rounds.shared(peer) {
      case .success(let facts): peers.facts[peer] = facts
      case .failure(.unreachable(let why)): peers.problems[peer] = "\(peer) is unreachable: \(why)"
      case .failure(.failed(let why)): peers.problems[peer] = "on \(peer), \(why)"
      }
    }
    let handlerNames = Set(planner.plays.flatMap { project.handlers(of: $0).keys })
    planningSlots.wait()
    let plan = planner.plan(instances, facts: facts, peers: peers, handlers: handlerNames)
    planningSlots.signal()
    if options.diff {
      for secret in DiffPrinter.replacedSecrets(plan.tasks.flatMap(\.plan.diffs), masker: output.masker) { output.masker.add(secret) }
    }
    outcome.plan = plan
    outcome.handlersDue = plan.handlersToRun
    if let failure = plan.failure {
      outcome.failure = failure.description
      return outcome
    }
    guard options.mode == .apply, !plan.changes.isEmpty else { return outcome }

    // Large files first, into the staging directory; then one script for every change.
    var progress = ApplyProgress()
    var current = -1
    do {
      for (index, change) in plan.changes.enumerated() {
        if case .upload(_, let local, _, let sha, _, _, _) = change {
          current = index
          try connection.upload(localPath: local, to: "\(stateDirectory)/staging/\(sha)", mode: 0o600)
        }
      }
      current = -1
      let apply = RemoteScripts.applyScript(
        changes: plan.changes, runID: runID, notify: plan.notified, stagingDirectory: "\(stateDirectory)/staging", hostName: host.name)
      let result = try runScript(apply, on: host, connection, timeout: 600)
      let report = RemoteScripts.parseApply(result.stdout)
      progress.done = report.done
      if let failure = report.failure {
        let what = failure.index >= 0 && failure.index < plan.changes.count ? plan.changes[failure.index].summary : "apply"
        if failure.index >= 0 { progress.failed = failure.index }
        outcome.failure = "\(what): \(failure.message)\(result.stderrTail.isEmpty ? "" : " — \(result.stderrTail)")"
      } else if !report.finished {
        outcome.failure = "the apply script stopped early (status \(result.status)): \(result.stderrTail)"
        if let next = (0..<plan.changes.count).first(where: { !report.done.contains($0) }) { progress.failed = next }
      }
    } catch {
      if current >= 0 {
        progress.failed = current
        outcome.failure = "\(plan.changes[current].summary): \(error)"
      } else {
        outcome.failure = "applying changes failed: \(error)"
      }
    }
    outcome.applyProgress = progress
    return outcome
  }

  private func rollback(_ host: HostSpec, _ connection: HostConnection, _ outcome: HostOutcome) -> HostOutcome {
    var outcome = outcome
    do {
      let result = try runScript(RemoteScripts.rollbackScript(), on: host, connection, timeout: 300)
      let text = String(decoding: result.stdout, as: UTF8.self)
      for line in text.split(separator: "\n") {
        if line.hasPrefix("@notify ") { outcome.handlersDue.append(String(line.dropFirst(8))) }
        if line.hasPrefix("@restored ") || line.hasPrefix("@removed ") { output.verbose(1, "\(host.name): \(line.dropFirst())") }
        if line.hasPrefix("@fail ") { outcome.failure = String(line.dropFirst(6)) }
        if line == "@nothing" { output.say("\(host.name): nothing to roll back") }
      }
      if outcome.failure == nil, !text.contains("@rolled-back"), !text.contains("@nothing") {
        outcome.failure = "rollback stopped early: \(result.stderrTail)"
      }
    } catch {
      outcome.failure = "rollback failed: \(error)"
    }
    return outcome
  }

  // MARK: - Pre-flight

  /// Runs every `check` of the hosts' plays on every reachable host, in parallel, once there is
  /// a restart to do. A failure stops the run before the first restart.
  private func preflight(_ results: inout [HostOutcome]) -> String? {
    guard !options.skipPreflight, results.contains(where: { !$0.handlersDue.isEmpty }) else { return nil }
    var work: [(Int, Play, HandlerDecl, Module)] = []
    for (i, o) in results.enumerated() where o.unreachable == nil && o.failure == nil {
      for play in plays(of: o.host) {
        for module in play.modules { for check in module.checks { work.append((i, play, check, module)) } }
      }
    }
    guard !work.isEmpty else { return nil }
    let snapshot = results
    let verdicts: [(Int, String)?] = SSHPool.run(Array(work.indices), forks: options.forks) { [self, work] k in
      let (i, play, check, module) = work[k]
      let host = snapshot[i].host
      do {
        let vars = HostVariables(host: host, play: play, world: world)
        let task = TaskDecl(
          name: check.name.name, nameRange: check.name.range, kind: check.kind, target: nil, when: nil, loop: nil,
          statements: check.statements, notify: [], tags: [], range: check.range)
        let context = TaskContext(task: task, hostName: host.name, scope: vars.root, functions: world.functions, facts: nil, templates: module)
        guard case .database(let h, let port, let user, let password, let dbs, let timeout) = try CheckKinds.resolve(check, context: context) else { return nil }
        guard let connection = connections.existing(host.name) else { return nil }
        let script = RemoteScripts.databaseCheckScript(host: h, port: port, user: user, password: password, databases: dbs, timeout: timeout)
        let result = try runScript(script, on: host, connection, timeout: Double(timeout) * 3 + 10)
        let text = String(decoding: result.stdout, as: UTF8.self)
        if let fail = text.split(separator: "\n").first(where: { $0.hasPrefix("@fail ") }) {
          return (i, "\(check.name.name): \(fail.dropFirst(6))")
        }
        if !text.contains("@ok") { return (i, "\(check.name.name): the check stopped early \(result.stderrTail)") }
        if text.contains("@no-client") {
          output.verbose(1, "\(host.name): \(check.name.name): TCP reachable; no mysql client on the node to check the login")
        }
        return nil
      } catch {
        return (i, "\(check.name.name): \(error)")
      }
    }
    let found = verdicts.compactMap { $0 }
    guard !found.isEmpty else { return nil }
    for (i, why) in found {
      results[i].restartFailure = "pre-flight: \(why)"
      output.say(output.paint("\(results[i].host.name): PRE-FLIGHT FAILED: \(why)", "31"))
    }
    for i in results.indices where !results[i].handlersDue.isEmpty && results[i].restartFailure == nil {
      results[i].restartSkipped = "pre-flight failed"
    }
    let names = found.map { results[$0.0].host.name }
    return "pre-flight checks failed on \(names.joined(separator: ", ")); no node was restarted. Fix the cause and run 'dasprov apply' again (or --skip-preflight): the restarts stay pending."
  }

  // MARK: - Rolling restarts

  /// Plays in restart order: the playbook's `restart order`, then any play it does not name.
  public func restartOrder() -> [Play] {
    guard let expr = project.restartOrder, let first = world.hosts.first else { return project.plays }
    let vars = HostVariables(host: first, play: nil, world: world)
    guard let names = try? RestartOrder.names(expr, scope: vars.root, functions: world.functions) else { return project.plays }
    var ordered = names.compactMap { n in project.plays.first { $0.name == n } }
    ordered += project.plays.filter { p in !ordered.contains { $0.name == p.name } }
    return ordered
  }

  /// Restarts, play by play, the hosts that owe a restart. Returns why the roll halted, if it did.
  private func restartInOrder(_ results: inout [HostOutcome]) -> String? {
    var failures = 0
    for play in restartOrder() {
      let members = (try? Runner.hosts(of: play, in: world)) ?? []
      let indices = results.indices.filter { i in members.contains { $0.name == results[i].host.name } }
      let due = indices.filter { !results[$0].handlersDue.isEmpty }
      guard !due.isEmpty else { continue }
      // A member lost since its configuration was applied (its sshd or network gone mid-run)
      // is as bad as one that failed then: probe every member before the role's first restart.
      for i in indices where results[i].unreachable == nil && results[i].failure == nil {
        guard let connection = connections.existing(results[i].host.name) else { continue }
        do {
          _ = try connection.runScript(":", timeout: 15)
        } catch {
          results[i].restartFailure = "unreachable before the \(play.name) restarts: \(error)"
          output.say(output.paint("\(results[i].host.name): UNREACHABLE: \(error)", "31"))
        }
      }
      // A role with an unreachable or failed member is not restarted: its other nodes are what
      // keeps the role available.
      if let bad = indices.first(where: { results[$0].unreachable != nil || results[$0].failure != nil || results[$0].restartFailure != nil }) {
        let why = results[bad].failure != nil ? "failed" : "is unreachable"
        for i in due where results[i].failure == nil && results[i].unreachable == nil && results[i].restartFailure == nil {
          results[i].restartSkipped = "\(play.name) restarts halted"
        }
        return haltMessage(play, "host \(results[bad].host.name) \(why)", &results)
      }
      let serial = serialSize(play)
      output.say(output.paint("RESTART \(play.name)", "1") + " (\(due.count) node\(due.count == 1 ? "" : "s"), \(serial) at a time)")
      var position = 0
      while position < due.count {
        let chunk = Array(due[position..<min(due.count, position + serial)])
        position += chunk.count
        let restarted = SSHPool.run(chunk.map { results[$0] }, forks: chunk.count) { [self] outcome in
          var outcome = outcome
          self.runHandlers(play, &outcome)
          return outcome
        }
        for (i, o) in zip(chunk, restarted) { results[i] = o }
        for i in chunk where results[i].restartFailure != nil {
          failures += 1
          output.say(output.paint("\(results[i].host.name): restart failed: \(results[i].restartFailure!)", "31"))
        }
        if failures > options.maxFail {
          let failed = chunk.first { results[$0].restartFailure != nil }.map { results[$0].host.name } ?? "?"
          return haltMessage(play, "the health gate failed on \(failed)", &results)
        }
      }
    }
    return nil
  }

  private func haltMessage(_ play: Play, _ why: String, _ results: inout [HostOutcome]) -> String {
    let waiting = results.filter { !$0.handlersDue.isEmpty && $0.restarted == 0 && $0.restartFailure == nil }.map(\.host.name)
    for i in results.indices where !results[i].handlersDue.isEmpty && results[i].restarted == 0 && results[i].restartFailure == nil {
      results[i].restartSkipped = results[i].restartSkipped ?? "roll halted"
    }
    var message = "rolling restart halted at play '\(play.name)': \(why)."
    if !waiting.isEmpty {
      message += " Not restarted: \(waiting.joined(separator: ", ")); each keeps a pending-restart marker."
    }
    message += " Fix the cause, then run 'dasprov apply' again: it resumes the pending restarts."
    return message
  }

  private func serialSize(_ play: Play) -> Int {
    guard let expr = play.decl.serial, let first = world.hosts.first else { return 1 }
    let vars = HostVariables(host: first, play: play, world: world)
    let v = try? Evaluator(scope: vars.root, functions: world.functions).evaluate(expr)
    return max(1, v?.intValue ?? 1)
  }

  /// Runs every due handler of one host; stops at the first failure.
  private func runHandlers(_ play: Play, _ outcome: inout HostOutcome) {
    guard let connection = connections.existing(outcome.host.name) else {
      outcome.restartFailure = "no connection"
      return
    }
    let handlers = project.handlers(of: play)
    let vars = HostVariables(host: outcome.host, play: play, world: world)
    for name in outcome.handlersDue {
      guard let (decl, module) = handlers[name] else { continue }
      let started = Date()
      do {
        let task = TaskDecl(
          name: name, nameRange: decl.name.range, kind: decl.kind, target: nil, when: nil, loop: nil, statements: decl.statements,
          notify: [], tags: [], range: decl.range)
        let context = TaskContext(task: task, hostName: outcome.host.name, scope: vars.root, functions: world.functions, facts: nil, templates: module)
        let address = (try? vars.root.lookup("das_address"))??.description ?? outcome.host.vars["ansible_host"]?.description ?? outcome.host.name
        let action = try HandlerKinds.resolve(decl, context: context, defaultAddress: address)
        let script: String
        let timeout: Double
        switch action {
        case .restart(let spec):
          script = RemoteScripts.restartScript(handler: name, spec: spec)
          timeout = Double(spec.timeoutSeconds) + 30
        case .run(let argv):
          script = RemoteScripts.commandHandlerScript(handler: name, argv: argv)
          timeout = 600
        }
        let result = try runScript(script, on: outcome.host, connection, timeout: timeout)
        let text = String(decoding: result.stdout, as: UTF8.self)
        if let fail = text.split(separator: "\n").first(where: { $0.hasPrefix("@fail ") }) {
          outcome.restartFailure = "\(name): \(fail.dropFirst(6))"
          return
        }
        guard text.contains("@healthy") else {
          outcome.restartFailure = "\(name): stopped early (status \(result.status)) \(result.stderrTail)"
          return
        }
        outcome.restarted += 1
        output.say("\(outcome.host.name): \(name) done, healthy after \(String(format: "%.1f", Date().timeIntervalSince(started)))s")
      } catch {
        outcome.restartFailure = "\(name): \(error)"
        return
      }
    }
  }

  // MARK: - Progress

  private func progress(_ o: HostOutcome) {
    if let u = o.unreachable {
      output.say(output.paint("\(o.host.name): UNREACHABLE: \(u)", "31"))
      return
    }
    // A host that failed before its apply began (facts, planning): its one error says it all.
    guard let plan = o.plan, o.failure == nil || o.applyProgress != nil || options.mode == .plan else {
      if let f = o.failure { output.say(output.paint("\(o.host.name): FAILED: \(f)", "31")) }
      return
    }
    let results = o.taskResults(options.mode)
    if options.mode != .plan && output.verbosity == 0 && !options.diff {
      // Apply, not verbose: one line per host that changed or failed; -v lists every task.
      let line = Self.summaryLine(host: o.host.name, tasks: plan.tasks, results: results, failure: o.failure)
      if let line {
        output.say(output.paint(line, o.failure == nil ? "33" : "31"))
        for (t, r) in zip(plan.tasks, results) where r == .changed { for n in t.plan.notes { output.say("    note: \(n)") } }
      }
      return
    }
    if let f = o.failure { output.say(output.paint("\(o.host.name): FAILED: \(f)", "31")) }
    for (t, result) in zip(plan.tasks, results) {
      switch result {
      case .changed, .failed:
        let verb = options.mode == .plan ? "would change" : (result == .failed ? "failed" : "changed")
        output.say(output.paint("\(o.host.name): \(verb): \(t.instance.label)", result == .failed ? "31" : "33"))
        for c in t.plan.changes { output.verbose(1, "    \(c.summary)") }
        for n in t.plan.notes { output.say("    note: \(n)") }
        if options.diff { for d in t.plan.diffs { output.say(DiffPrinter.render(d, output: output)) } }
      case .ok:
        output.verbose(1, "\(o.host.name): ok: \(t.instance.label)")
      case .skipped(let why):
        if why == TaskResult.notAttempted {
          output.say("\(o.host.name): not attempted: \(t.instance.label)")
        } else {
          output.verbose(2, "\(o.host.name): skipped: \(t.instance.label) (\(why))")
        }
      }
    }
    if options.mode == .plan {
      for h in plan.pending { output.say(output.paint("\(o.host.name): would run handler '\(h)' (pending from an earlier run)", "33")) }
      for h in plan.notified { output.say(output.paint("\(o.host.name): would run handler '\(h)'", "33")) }
    }
  }

  /// The one line an apply prints for a host: what was applied, what failed (and why), and
  /// what was not attempted; nil for a host with nothing to report.
  static func summaryLine(host: String, tasks: [PlannedTask], results: [TaskResult], failure: String?) -> String? {
    func modules(_ picked: [PlannedTask]) -> String {
      var counts: [(String, Int)] = []
      for t in picked {
        if let i = counts.firstIndex(where: { $0.0 == t.instance.module.name }) { counts[i].1 += 1 } else { counts.append((t.instance.module.name, 1)) }
      }
      return counts.map { $0.1 > 1 ? "\($0.0) ×\($0.1)" : $0.0 }.joined(separator: ", ")
    }
    func tasksPhrase(_ n: Int) -> String { "\(n) task\(n == 1 ? "" : "s")" }
    let changed = zip(tasks, results).filter { $0.1 == .changed }.map(\.0)
    let failed = zip(tasks, results).filter { $0.1 == .failed }.map(\.0)
    let notAttempted = zip(tasks, results).filter { $0.1 == .skipped(TaskResult.notAttempted) }.map(\.0)
    guard let failure else {
      return changed.isEmpty ? nil : "\(host): \(tasksPhrase(changed.count)) changed (\(modules(changed)))"
    }
    var parts: [String] = []
    parts.append(changed.isEmpty ? "\(host): nothing applied" : "\(host): \(tasksPhrase(changed.count)) applied (\(modules(changed)))")
    let what = failed.map(\.instance.label).joined(separator: ", ")
    parts.append("FAILED\(what.isEmpty ? "" : " " + what): \(failure)")
    if !notAttempted.isEmpty { parts.append("\(tasksPhrase(notAttempted.count)) not attempted (\(modules(notAttempted)))") }
    return parts.joined(separator: "; ")
  }
}

/// Renders `ContentDiff`s for `--diff`.
enum DiffPrinter {
  /// What the secrets of a diff replace: the password being rotated out is the one in use until
  /// the change lands, and the masker knows only the inventory's values. A line of the old side
  /// that matches a new line around a masked secret (`<password>…</password>`, `key=…`, or a
  /// whole value) holds a secret in that place.
  static func replacedSecrets(_ diffs: [ContentDiff], masker: SecretMasker) -> [String] {
    var pairs: [(old: String, new: String)] = []
    for d in diffs {
      switch d {
      case .text(_, let old, let new): pairs.append((old, new))
      case .xml(_, let changes): for c in changes { if let o = c.old, let n = c.new { pairs.append((o, n)) } }
      case .opaque: break
      }
    }
    var found: [String] = []
    for (old, new) in pairs where masker.mask(new) != new {
      let oldLines = old.split(separator: "\n", omittingEmptySubsequences: false)
      for line in new.split(separator: "\n", omittingEmptySubsequences: false) {
        let masked = masker.mask(String(line))
        guard let first = masked.range(of: SecretMasker.mask), let last = masked.range(of: SecretMasker.mask, options: .backwards) else { continue }
        let prefix = masked[..<first.lowerBound], suffix = masked[last.upperBound...]
        for o in oldLines where o.count > prefix.count + suffix.count && o.hasPrefix(prefix) && o.hasSuffix(suffix) {
          let value = String(o.dropFirst(prefix.count).dropLast(suffix.count))
          let unescaped = XMLEscaping.unescape(value)
          found += [value, unescaped].filter { $0 != SecretMasker.mask && !found.contains($0) }
        }
      }
    }
    return found
  }

  static func render(_ d: ContentDiff, output: Output) -> String {
    switch d {
    case .text(let path, let old, let new):
      let text = UnifiedDiff.diff(old: old, new: new, oldName: "\(path) (before)", newName: "\(path) (after)")
      return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        if line.hasPrefix("+") && !line.hasPrefix("+++") { return output.paint(String(line), "32") }
        if line.hasPrefix("-") && !line.hasPrefix("---") { return output.paint(String(line), "31") }
        return String(line)
      }.joined(separator: "\n")
    case .xml(let path, let changes):
      var out = "--- \(path) (XML changes)"
      for c in changes {
        switch (c.old, c.new) {
        case (nil, let n?): out += "\n  + \(c.path) = \(n)"
        case (let o?, nil): out += "\n  - \(c.path) (was \(o))"
        case (let o?, let n?): out += "\n  ~ \(c.path): \(o) → \(n)"
        default: out += "\n  ~ \(c.path)"
        }
      }
      return out
    case .opaque(let path, let description):
      return "--- \(path): \(description)"
    }
  }
}
