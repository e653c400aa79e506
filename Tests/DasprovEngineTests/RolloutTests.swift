import Testing

@testable import DasprovEngine

/// The rolling restart's rules, one row each, driven without hosts: a scripted driver answers
/// the rollout's actions and the trace of actions is compared.
@Suite struct RolloutTests {
  typealias Node = Rollout.Node

  /// What the scripted hosts do: checks that fail, nodes lost before their role, gates that fail.
  struct Script {
    var preflightFailures: [Int: String] = [:]
    var lost: [Int: String] = [:]
    var failingGates: Set<Int> = []
  }

  struct Run {
    var trace: [Rollout.Action]
    var rollout: Rollout
    var halt: String? { rollout.halt?.message { "h\($0)" } }
  }

  func drive(_ nodes: [Node], _ roles: [Rollout.Role], maxFail: Int = 0, preflight: Bool = true, _ script: Script = Script()) -> Run {
    var rollout = Rollout(nodes: nodes, roles: roles, maxFail: maxFail, preflight: preflight)
    var trace: [Rollout.Action] = []
    for _ in 0..<100 {
      let action = rollout.next()
      trace.append(action)
      switch action {
      case .preflight(let indices):
        rollout.record(.preflight(failures: script.preflightFailures.filter { indices.contains($0.key) }))
      case .probe(_, let indices):
        rollout.record(.probed(lost: script.lost.filter { indices.contains($0.key) }))
      case .begin:
        continue
      case .restart(_, let indices):
        var results: [Int: Rollout.NodeRestart] = [:]
        for i in indices {
          results[i] = script.failingGates.contains(i) ? Rollout.NodeRestart(count: 0, failure: .handler("restart", "port 9443 did not open")) : Rollout.NodeRestart(count: 1)
        }
        rollout.record(.restarted(results))
      case .finished:
        return Run(trace: trace, rollout: rollout)
      }
    }
    Issue.record("the rollout never finished: \(trace)")
    return Run(trace: trace, rollout: rollout)
  }

  let due = Node(due: true)
  let idle = Node(due: false)
  /// analyzers 0,1; indexers 2,3; receivers 4,5 — the first nodes of a cluster.
  func roles(serial: Int = 1) -> [Rollout.Role] {
    [Rollout.Role(name: "analyzers", members: [0, 1], serial: serial), Rollout.Role(name: "indexers", members: [2, 3], serial: serial),
     Rollout.Role(name: "receivers", members: [4, 5], serial: serial)]
  }

  @Test func nothingOwedMeansNothingToDo() {
    let run = drive(Array(repeating: idle, count: 6), roles())
    #expect(run.trace == [.finished])
    #expect(run.halt == nil)
  }

  @Test func preflightChecksRunOnEveryConfiguredNodeFirst() {
    var nodes = Array(repeating: idle, count: 6)
    nodes[2] = due
    nodes[5] = Node(due: false, broken: .unreachable)
    let run = drive(nodes, roles())
    #expect(run.trace.first == .preflight([0, 1, 2, 3, 4]))
  }

  @Test func aFailedPreflightCheckHaltsBeforeAnyRestart() {
    let run = drive(Array(repeating: due, count: 6), roles(), Script(preflightFailures: [3: "login as das failed"]))
    #expect(run.trace == [.preflight([0, 1, 2, 3, 4, 5]), .finished])
    #expect(run.rollout.nodes[3].restartFailure == .preflight("login as das failed"))
    #expect(run.rollout.nodes.indices.filter { $0 != 3 }.allSatisfy { run.rollout.nodes[$0].restartSkipped == "pre-flight failed" })
    #expect(run.halt?.hasPrefix("pre-flight checks failed on h3; no node was restarted.") == true)
  }

  @Test func skippedPreflightGoesStraightToTheRoles() {
    let run = drive([due, idle, idle, idle, idle, idle], roles(), preflight: false)
    #expect(run.trace == [.probe(role: "analyzers", [0, 1]), .begin(role: "analyzers", nodes: 1, serial: 1), .restart(role: "analyzers", [0]), .finished])
  }

  @Test func rolesRestartInOrderOneAtATimeAndIdleRolesArePassedOver() {
    let run = drive([due, due, idle, idle, due, idle], roles(), preflight: false)
    #expect(run.trace == [
      .probe(role: "analyzers", [0, 1]), .begin(role: "analyzers", nodes: 2, serial: 1), .restart(role: "analyzers", [0]), .restart(role: "analyzers", [1]),
      .probe(role: "receivers", [4, 5]), .begin(role: "receivers", nodes: 1, serial: 1), .restart(role: "receivers", [4]), .finished,
    ])
    #expect(run.rollout.nodes.map(\.restarted) == [1, 1, 0, 0, 1, 0])
    #expect(run.halt == nil)
  }

  @Test func serialRestartsThatManyAtOnce() {
    let roles = [Rollout.Role(name: "indexers", members: [0, 1, 2], serial: 2)]
    let run = drive([due, due, due], roles, preflight: false)
    #expect(run.trace == [.probe(role: "indexers", [0, 1, 2]), .begin(role: "indexers", nodes: 3, serial: 2), .restart(role: "indexers", [0, 1]), .restart(role: "indexers", [2]), .finished])
  }

  @Test func aMemberLostBeforeItsRoleHaltsTheRollBeforeTheRole() {
    let run = drive([due, due, due, due, idle, idle], roles(), preflight: false, Script(lost: [3: "connection reset"]))
    #expect(run.trace.last == .finished)
    #expect(!run.trace.contains(.restart(role: "indexers", [2])))
    #expect(run.rollout.nodes[3].restartFailure == .lostBeforeRestarts(role: "indexers", "connection reset"))
    #expect(run.rollout.nodes[2].restartSkipped == "indexers restarts halted")
    #expect(run.halt == "rolling restart halted at play 'indexers': host h3 is unreachable. Not restarted: h2; each keeps a pending-restart marker. Fix the cause, then run 'dasprov apply' again: it resumes the pending restarts.")
  }

  @Test func aMemberWhoseConfigurationFailedHaltsBeforeItsRole() {
    let run = drive([due, due, due, Node(due: false, broken: .failed), due, idle], roles(), preflight: false)
    #expect(run.trace.contains(.probe(role: "indexers", [2])), "the failed member is not probed")
    #expect(!run.trace.contains(.restart(role: "indexers", [2])))
    #expect(run.halt?.contains("host h3 failed. Not restarted: h2, h4;") == true, "\(run.halt ?? "")")
    #expect(run.rollout.nodes[4].restartSkipped == "roll halted")
  }

  @Test func anUnreachableMemberHaltsBeforeItsRole() {
    let run = drive([Node(due: false, broken: .unreachable), due, idle, idle, idle, idle], roles(), preflight: false)
    #expect(run.trace == [.probe(role: "analyzers", [1]), .finished])
    #expect(run.halt?.contains("host h0 is unreachable") == true)
  }

  @Test func aFailedHealthGateHaltsTheRollAndLaterRolesWait() {
    let run = drive([due, due, due, due, idle, idle], roles(), preflight: false, Script(failingGates: [0]))
    #expect(run.trace == [.probe(role: "analyzers", [0, 1]), .begin(role: "analyzers", nodes: 2, serial: 1), .restart(role: "analyzers", [0]), .finished])
    #expect(run.rollout.nodes[0].restartFailure == .handler("restart", "port 9443 did not open"))
    #expect(run.halt?.hasPrefix("rolling restart halted at play 'analyzers': the health gate failed on h0. Not restarted: h1, h2, h3;") == true, "\(run.halt ?? "")")
    #expect([1, 2, 3].allSatisfy { run.rollout.nodes[$0].restartSkipped == "roll halted" })
  }

  @Test func maxFailToleratesThatManyFailedGates() {
    let run = drive([due, due, due, due, idle, idle], roles(), maxFail: 1, preflight: false, Script(failingGates: [1]))
    #expect(run.trace.contains(.restart(role: "indexers", [3])), "one failure is tolerated")
    #expect(run.halt == nil)
    let two = drive([due, due, due, due, idle, idle], roles(), maxFail: 1, preflight: false, Script(failingGates: [1, 2]))
    #expect(!two.trace.contains(.restart(role: "indexers", [3])), "the second failure halts")
    #expect(two.halt?.contains("the health gate failed on h2") == true)
  }

  @Test func aNodeThatRestartedIsNotListedAsWaiting() {
    let run = drive([due, due, idle, idle, idle, idle], roles(), preflight: false, Script(failingGates: [1]))
    #expect(run.rollout.nodes[0].restarted == 1)
    #expect(run.rollout.nodes[0].restartSkipped == nil)
    #expect(run.halt?.contains("Not restarted") == false, "h1 failed, h0 restarted: nobody waits")
  }
}
