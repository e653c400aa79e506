import DasprovCore
import DasprovDSL
import DasprovSSH
import DasprovShell
import DasprovTasks
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

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
  var progressPrinter: ProgressPrinter { ProgressPrinter(output: output, mode: options.mode, diff: options.diff) }
  let connections: ConnectionBroker
  /// Planning is CPU work (templates, libxml2 documents of every edited file): more hosts at
  /// once than cores gains no speed and multiplies the peak memory, so it takes a slot; the
  /// waits on the network (connect, facts, apply, restarts) do not.
  private let planningSlots = DispatchSemaphore(value: max(2, ProcessInfo.processInfo.activeProcessorCount))
  /// The inputs every record key of this run shares (worked out once, before the hosts).
  private(set) var recordKeys: RecordKeys?
  /// Other hosts' files fetched for plans that needed their bytes, by host and path.
  let peerContents = Mutex<[String: Result<PathFacts, Diagnostic>]>([:])

  public init(project: Project, world: World, targets: [HostSpec], options: RunOptions, connector: Connector, output: Output) {
    self.project = project
    self.world = world
    self.targets = targets
    self.options = options
    self.connector = connector
    self.output = output
    self.connections = ConnectionBroker(connector: connector)
    self.playMembers = Dictionary(
      project.plays.map { play in (play.name, Set(((try? Runner.hosts(of: play, in: world)) ?? []).map(\.name))) },
      uniquingKeysWith: { a, _ in a })
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyyMMdd'T'HHmmssSSS'Z'"
    self.runID = f.string(from: Date())
  }

  /// The plays a host is in, in playbook order.
  public func plays(of host: HostSpec) -> [Play] {
    project.plays.filter { playMembers[$0.name]?.contains(host.name) ?? false }
  }

  /// Each play's hosts by name: its pattern is matched against the inventory once per run, not
  /// once per host.
  private let playMembers: [String: Set<String>]

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

  /// Runs one of dasprov's programs on a host, in the host's state directory when the inventory
  /// sets `dasprov_state_dir`.
  func run(_ program: ShellProgram, on host: HostSpec, _ connection: HostConnection, timeout: Double?) throws -> CommandOutput {
    var program = program
    if let dir = host.vars["dasprov_state_dir"]?.description, !dir.isEmpty { program.set("DASPROV_STATE_DIR", dir) }
    output.verbose(3, "\(host.name): \(program.name):\n\(program.displayText)")
    return try connection.runScript(program.text, timeout: timeout)
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
    if options.mode != .rollback { recordKeys = RecordKeys(project: project, world: world) }
    // Every host's needs first, so each host's one fact round trip also carries what other
    // hosts' plans ask of it.
    let cores = max(2, ProcessInfo.processInfo.activeProcessorCount)
    let preparations = SSHPool.run(targets, forks: cores) { [self] host in self.prepare(host) }
    let rounds = FactRounds(
      targets: zip(targets, preparations).map { ($0, try? $1.get().needs) }, world: world,
      gather: { [self] host, needs in self.gatherFacts(host, needs) })
    // Facts and plans of every host, then — only when no node would fail to start as
    // configured — every host's changes: a run that cannot end well changes nothing.
    let planned = SSHPool.run(Array(zip(targets, preparations)), forks: options.forks) { [self] host, preparation in
      self.planHost(host, preparation, rounds)
    }
    let stop = options.mode == .apply ? stopBeforeChanges(planned) : nil
    var results = SSHPool.run(planned, forks: options.forks) { [self] planned in
      var outcome = stop == nil ? self.apply(planned) : Self.stopped(planned.outcome)
      outcome.seconds = Date().timeIntervalSince(planned.started)
      self.progressPrinter.report(outcome)
      return outcome
    }
    var halted = stop
    if options.mode != .plan && stop == nil {
      releaseFreedMemory()
      halted = roll(&results)
    }
    for i in results.indices {
      if let c = connections.existing(results[i].host.name) {
        results[i].roundTrips = c.roundTrips
        results[i].channels = c.channelsOpened
        results[i].bytesReceived = c.bytesReceived
      }
    }
    connections.closeAll()
    return RunReport(mode: options.mode, outcomes: results, halted: halted, seconds: Date().timeIntervalSince(start))
  }

  /// What planning `host` needs, before any host is contacted.
  private func prepare(_ host: HostSpec) -> Result<HostPreparation, DiagnosticList> {
    guard options.mode == .rollback else { return world.preparation(of: host, plays: plays(of: host), selection: options.selection, wantDiff: options.diff) }
    let planner = HostPlanner(host: host, plays: plays(of: host), world: world, selection: options.selection)
    return .success(HostPreparation(planner: planner, instances: [], needs: FactNeedsSummary()))
  }

  /// One fact round trip on `host`: every fact in `needs`.
  private func gatherFacts(_ host: HostSpec, _ needs: FactNeedsSummary) -> Result<FactRounds.Gathered, FactRounds.Failure> {
    let connection: HostConnection
    do throws(ConnectError) {
      connection = try connections.connection(for: host)
    } catch {
      return .failure(.unreachable(error))
    }
    let program = FactProgram(requests: needs.requests, probes: needs.probes, accounts: needs.accounts, records: true)
    do {
      let result = try run(program.program, on: host, connection, timeout: 120)
      guard result.status == 0 || !result.stdout.isEmpty else {
        return .failure(.failed("gathering facts failed (status \(result.status)): \(result.stderrTail)"))
      }
      let gathered = try program.parse(result.stdout)
      return .success(FactRounds.Gathered(facts: gathered.facts, stateDirectory: gathered.stateDirectory, records: gathered.records))
    } catch {
      return .failure(.failed("gathering facts failed: \(error)"))
    }
  }

  /// A host planned, with what applying its plan needs.
  struct PlannedHost: Sendable {
    var outcome: HostOutcome
    var connection: HostConnection?
    var stateDirectory = ""
    var started: Date
    /// The record lines its plan proved (see `provenRecords`): written by its apply, or by one
    /// exec of their own when the host has nothing to change.
    var proven: [(tag: UInt64, record: FileRecord)] = []
  }

  /// Connect, gather facts and plan one host (rollback: roll it back).
  private func planHost(_ host: HostSpec, _ preparation: Result<HostPreparation, DiagnosticList>, _ rounds: FactRounds) -> PlannedHost {
    let started = Date()
    var done = PlannedHost(outcome: HostOutcome(host: host), started: started)
    done.outcome = plan(host, preparation, rounds, into: &done)
    return done
  }

  private func plan(_ host: HostSpec, _ preparation: Result<HostPreparation, DiagnosticList>, _ rounds: FactRounds, into planned: inout PlannedHost) -> HostOutcome {
    var outcome = HostOutcome(host: host)
    let planner: HostPlanner
    let instances: [TaskInstance]
    let needs: FactNeedsSummary
    switch preparation {
    case .success(let p): (planner, instances, needs) = (p.planner, p.instances, p.needs)
    case .failure(let error):
      outcome.failure = .planning(error.diagnostics)
      return outcome
    }
    let connection: HostConnection
    do throws(ConnectError) {
      connection = try connections.connection(for: host)
    } catch {
      outcome.unreachable = error
      return outcome
    }
    if options.mode == .rollback { return rollback(host, connection, outcome) }
    planned.connection = connection

    // One round trip: every fact the plan needs (and what other hosts' plans need from here).
    var facts: HostFacts
    let stateDirectory: String
    let records: HostRecords?
    switch rounds.own(host) {
    case .success(let gathered): (facts, stateDirectory, records) = (gathered.facts, gathered.stateDirectory, gathered.records)
    case .failure(.unreachable(let why)):
      outcome.unreachable = why
      return outcome
    case .failure(.failed(let why)):
      outcome.failure = .facts(why)
      return outcome
    }
    // The files the record vouches for are planned without their bytes; the others' come in a
    // second round trip.
    let check = planner.recordCheck(instances, requests: needs.byInstance, facts: facts, records: records, keys: recordKeys)
    if !check.needContent.isEmpty {
      switch contents(of: check.needContent, on: host, connection) {
      case .success(let fetched): for (path, f) in fetched.facts.paths { facts.paths[path] = f }
      case .failure(let why):
        outcome.failure = .facts(why.description)
        return outcome
      }
    }
    // What this host's plan asked of other hosts, answered in their own round trips.
    var peers = PeerFacts()
    peers.fetchContent = { [self] peer, path in self.peerContent(path, on: peer) }
    for peer in needs.peers.keys {
      switch rounds.shared(peer) {
      case .success(let facts): peers.facts[peer] = facts
      case .failure(.unreachable(let why)): peers.problems[peer] = "\(peer) is unreachable: \(why.message)"
      case .failure(.failed(let why)): peers.problems[peer] = "on \(peer), \(why)"
      }
    }
    let handlerNames = Set(planner.plays.flatMap { project.handlers(of: $0).keys })
    planningSlots.wait()
    let plan = planner.plan(instances, facts: facts, peers: peers, handlers: handlerNames, recorded: check.recorded)
    let proven = options.mode == .apply ? planner.provenRecords(plan, check: check, instances: instances, facts: facts, peers: peers) : []
    planningSlots.signal()
    if options.diff {
      for secret in DiffRenderer.replacedSecrets(plan.tasks.flatMap(\.plan.diffs), masker: output.masker) { output.masker.add(secret) }
    }
    outcome.plan = plan
    outcome.handlersDue = plan.handlersToRun
    if let failure = plan.failure {
      outcome.failure = .planning([failure])
      return outcome
    }
    planned.stateDirectory = stateDirectory
    planned.proven = proven
    return outcome
  }

  /// Whether the run must stop before any change, and why: a node that could not start as
  /// configured (no JDBC driver, a server that would run as root, no JDK) would halt the roll
  /// anyway, after the other nodes' files had changed.
  private func stopBeforeChanges(_ planned: [PlannedHost]) -> String? {
    let blocked = planned.filter {
      if case .planning(let diagnostics)? = $0.outcome.failure { return diagnostics.contains { $0.code == .nodeCannotStart } }
      return false
    }
    guard !blocked.isEmpty else { return nil }
    let names = blocked.map(\.outcome.host.name).joined(separator: ", ")
    return "stopped before any change: DAS could not start on \(names) as configured (see above); no host was changed. Fix the cause and run 'dasprov apply' again."
  }

  /// A planned host whose changes the run did not make: its tasks were not attempted, and it
  /// restarts nothing.
  static func stopped(_ outcome: HostOutcome) -> HostOutcome {
    var outcome = outcome
    if outcome.failure == nil && outcome.unreachable == nil {
      outcome.applyProgress = ApplyProgress()
      if !outcome.handlersDue.isEmpty { outcome.restartSkipped = "the run stopped before any change" }
      outcome.handlersDue = []
    }
    return outcome
  }

  /// Makes one planned host's changes (apply mode).
  private func apply(_ planned: PlannedHost) -> HostOutcome {
    var outcome = planned.outcome
    let host = outcome.host
    guard options.mode == .apply, outcome.failure == nil, outcome.unreachable == nil, let plan = outcome.plan,
      let connection = planned.connection
    else { return outcome }
    let proven = planned.proven
    guard !plan.changes.isEmpty else {
      if !proven.isEmpty { writeRecords(proven, on: host, connection) }
      return outcome
    }
    let stateDirectory = planned.stateDirectory

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
      let apply = ApplyProgram(
        changes: plan.changes, runID: runID, notify: plan.notified, stagingDirectory: "\(stateDirectory)/staging", hostName: host.name,
        records: proven)
      let result = try run(apply.program, on: host, connection, timeout: 600)
      let report = ApplyProgram.report(result.stdout)
      progress.done = report.done
      if let failure = report.failure {
        let what = failure.index >= 0 && failure.index < plan.changes.count ? plan.changes[failure.index].summary : "apply"
        if failure.index >= 0 { progress.failed = failure.index }
        outcome.failure = .apply(change: progress.failed, message: "\(what): \(failure.message)\(result.stderrTail.isEmpty ? "" : " — \(result.stderrTail)")")
      } else if !report.finished {
        outcome.failure = .apply(change: nil, message: "the apply program stopped early (status \(result.status)): \(result.stderrTail)")
        if let next = (0..<plan.changes.count).first(where: { !report.done.contains($0) }) { progress.failed = next }
      }
    } catch {
      if current >= 0 {
        progress.failed = current
        outcome.failure = .apply(change: current, message: "\(plan.changes[current].summary): \(error)")
      } else {
        outcome.failure = .apply(change: nil, message: "applying changes failed: \(error)")
      }
    }
    outcome.applyProgress = progress
    return outcome
  }

  private func rollback(_ host: HostSpec, _ connection: HostConnection, _ outcome: HostOutcome) -> HostOutcome {
    var outcome = outcome
    do {
      let result = try run(RollbackProgram().program, on: host, connection, timeout: 300)
      var finished = false
      for event in RollbackProgram.Event.events(in: result.stdout) {
        switch event {
        case .notify(let h): outcome.handlersDue.append(h)
        case .restored(let path): output.verbose(1, "\(host.name): restored \(path)")
        case .removed(let path): output.verbose(1, "\(host.name): removed \(path)")
        case .failed(let why): outcome.failure = .rollback(why)
        case .nothing:
          output.say("\(host.name): nothing to roll back")
          finished = true
        case .rolledBack: finished = true
        case .manifest: break
        }
      }
      if outcome.failure == nil, !finished {
        outcome.failure = .rollback("rollback stopped early: \(result.stderrTail)")
      }
    } catch {
      outcome.failure = .rollback("rollback failed: \(error)")
    }
    return outcome
  }
}
