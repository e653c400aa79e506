import DasprovCore
import DasprovDSL
import DasprovSSH
import DasprovShell
import DasprovTasks
import Foundation

/// The restart phase: the runner performs what the `Rollout` asks for — pre-flight checks,
/// reachability probes, health-gated restarts — and reports back. The rules live in Rollout.
extension Runner {
  /// Plays in restart order: the playbook's `restart order`, then any play it does not name.
  public func restartOrder() -> [Play] {
    guard let expr = project.restartOrder, let first = world.hosts.first else { return project.plays }
    let vars = HostVariables(host: first, play: nil, world: world)
    guard let names = try? RestartOrder.names(expr, scope: vars.root, functions: world.functions) else { return project.plays }
    var ordered = names.compactMap { n in project.plays.first { $0.name == n } }
    ordered += project.plays.filter { p in !ordered.contains { $0.name == p.name } }
    return ordered
  }

  func serialSize(_ play: Play) -> Int {
    guard let expr = play.decl.serial, let first = world.hosts.first else { return 1 }
    let vars = HostVariables(host: first, play: play, world: world)
    let v = try? Evaluator(scope: vars.root, functions: world.functions).evaluate(expr)
    return max(1, v?.intValue ?? 1)
  }

  /// Restarts what is owed, role by role; returns why the roll halted, if it did.
  func roll(_ results: inout [HostOutcome]) -> String? {
    let plays = restartOrder()
    let roles = plays.map { play in
      let members = Set(((try? Runner.hosts(of: play, in: world)) ?? []).map(\.name))
      return Rollout.Role(name: play.name, members: results.indices.filter { members.contains(results[$0].host.name) }, serial: serialSize(play))
    }
    let nodes = results.map { o in
      Rollout.Node(due: !o.handlersDue.isEmpty, broken: o.failure != nil ? .failed : o.unreachable != nil ? .unreachable : nil)
    }
    var rollout = Rollout(nodes: nodes, roles: roles, maxFail: options.maxFail, preflight: !options.skipPreflight)
    let snapshot = results
    driving: while true {
      switch rollout.next() {
      case .preflight(let indices):
        rollout.record(.preflight(failures: preflightFailures(indices, snapshot)))
      case .probe(_, let indices):
        rollout.record(.probed(lost: lostNodes(indices, snapshot)))
      case .begin(let role, let count, let serial):
        output.say(output.paint("RESTART \(role)", .heading) + " (\(count) node\(count == 1 ? "" : "s"), \(serial) at a time)")
      case .restart(let role, let indices):
        guard let play = plays.first(where: { $0.name == role }) else { break driving }
        let restarts = SSHPool.run(indices, forks: indices.count) { [self] i in self.restartNode(play, snapshot[i]) }
        for (i, r) in zip(indices, restarts) {
          if let failure = r.failure { output.say(output.paint("\(snapshot[i].host.name): restart failed: \(failure)", .failed)) }
        }
        rollout.record(.restarted(Dictionary(uniqueKeysWithValues: zip(indices, restarts))))
      case .finished:
        break driving
      }
    }
    for (i, node) in rollout.nodes.enumerated() {
      results[i].restarted = node.restarted
      results[i].restartFailure = node.restartFailure
      results[i].restartSkipped = node.restartSkipped
    }
    return rollout.halt?.message { results[$0].host.name }
  }

  /// Runs every `check` of the nodes' plays, all at once; the first failure of each node.
  private func preflightFailures(_ indices: [Int], _ results: [HostOutcome]) -> [Int: String] {
    let work: [(node: Int, play: Play, check: HandlerDecl, module: Module)] = indices.flatMap { i in
      plays(of: results[i].host).flatMap { play in play.modules.flatMap { module in module.checks.map { (i, play, $0, module) } } }
    }
    let verdicts: [PreflightVerdict] = SSHPool.run(Array(work.indices), forks: options.forks) { [self] k in
      let item = work[k]
      return self.preflightCheck(item.check, of: item.module, in: item.play, on: results[item.node].host)
    }
    var failures: [Int: String] = [:]
    var warned: Set<String> = []
    for (item, verdict) in zip(work, verdicts) {
      // The same database seen from every node: each warning once.
      for warning in verdict.warnings where warned.insert(warning).inserted { output.say(output.paint("warning: \(warning)", .changed)) }
      guard let why = verdict.failure else { continue }
      output.say(output.paint("\(results[item.node].host.name): PRE-FLIGHT FAILED: \(why)", .failed))
      if failures[item.node] == nil { failures[item.node] = why }
    }
    return failures
  }

  /// What one pre-flight check found on one host: why it failed, and what is worth a warning.
  struct PreflightVerdict: Sendable {
    var failure: String?
    var warnings: [String] = []
  }

  /// One pre-flight check on one host.
  private func preflightCheck(_ check: HandlerDecl, of module: Module, in play: Play, on host: HostSpec) -> PreflightVerdict {
    do {
      guard case .database(let database) = try HostHandlers(host: host, play: play, world: world).check(check, in: module),
        let connection = connections.existing(host.name)
      else { return PreflightVerdict() }
      let program = DatabaseCheckProgram(database)
      let result = try run(program.program, on: host, connection, timeout: program.timeout)
      let events = DatabaseCheckProgram.Event.events(in: result.stdout)
      for case .failed(let why) in events { return PreflightVerdict(failure: "\(check.name.name): \(why)") }
      guard events.contains(DatabaseCheckProgram.Event.ok) else {
        return PreflightVerdict(failure: "\(check.name.name): the check stopped early \(result.stderrTail)")
      }
      if events.contains(DatabaseCheckProgram.Event.noClient) {
        output.verbose(1, "\(host.name): \(check.name.name): TCP reachable; no mysql client on the node to check the login")
      }
      return PreflightVerdict(warnings: Self.databaseWarnings(database, events))
    } catch {
      return PreflightVerdict(failure: "\(check.name.name): \(error)")
    }
  }

  /// The connection budget against the server's max_connections, and the schema tables a first
  /// start needs.
  static func databaseWarnings(_ database: DatabaseCheck, _ events: [DatabaseCheckProgram.Event]) -> [String] {
    var warnings: [String] = []
    let server = "\(database.host):\(database.port)"
    for case .maxConnections(let limit) in events {
      if let b = database.budget, b.total > limit {
        warnings.append(
          "the database at \(server) allows \(limit) connections (max_connections), but \(b.nodes) nodes × \(b.datasources) MySQL datasources × maxActive \(b.maxActive) can open \(b.total): raise max_connections on the server")
      }
    }
    let missing = events.compactMap { if case .tableMissing(let t) = $0 { return t } else { return nil } }
    if !missing.isEmpty {
      warnings.append(
        "tables \(missing.joined(separator: ", ")) are missing on \(server): the first start needs -Dsetup, or the schema loaded from dbscripts/mysql.sql")
    }
    return warnings
  }

  /// Members lost since they were configured (their sshd or network gone mid-run), and why.
  private func lostNodes(_ indices: [Int], _ results: [HostOutcome]) -> [Int: String] {
    var lost: [Int: String] = [:]
    for i in indices {
      guard let connection = connections.existing(results[i].host.name) else { continue }
      do {
        _ = try connection.runScript(":", timeout: 15)
      } catch {
        lost[i] = "\(error)"
        output.say(output.paint("\(results[i].host.name): UNREACHABLE: \(error)", .failed))
      }
    }
    return lost
  }

  /// Runs every due handler of one node; stops at the first failure.
  private func restartNode(_ play: Play, _ outcome: HostOutcome) -> Rollout.NodeRestart {
    guard let connection = connections.existing(outcome.host.name) else { return Rollout.NodeRestart(count: 0, failure: .noConnection) }
    let handlers = project.handlers(of: play)
    let resolver = HostHandlers(host: outcome.host, play: play, world: world)
    var count = 0
    for name in outcome.handlersDue {
      guard let (decl, module) = handlers[name] else { continue }
      let started = Date()
      do {
        let program: ShellProgram
        let timeout: Double
        switch try resolver.action(name, decl, in: module) {
        case .restart(let spec):
          let restart = RestartProgram(handler: name, spec: spec)
          (program, timeout) = (restart.program, restart.timeout)
        case .run(let argv):
          (program, timeout) = (CommandHandlerProgram(handler: name, argv: argv).program, 600)
        }
        let result = try run(program, on: outcome.host, connection, timeout: timeout)
        switch HandlerEvent.verdict(result.stdout) {
        case .success:
          count += 1
          output.say("\(outcome.host.name): \(name) done, healthy after \(String(format: "%.1f", Date().timeIntervalSince(started)))s")
        case .failure(.reported(let why)):
          return Rollout.NodeRestart(count: count, failure: .handler(name, why))
        case .failure(.stoppedEarly):
          return Rollout.NodeRestart(count: count, failure: .handler(name, "stopped early (status \(result.status)) \(result.stderrTail)"))
        }
      } catch {
        return Rollout.NodeRestart(count: count, failure: .handler(name, "\(error)"))
      }
    }
    return Rollout.NodeRestart(count: count)
  }
}
