/// The rolling restart as a pure state machine: which nodes restart when, what halts the roll,
/// and what each node is owed when it stops.
///
/// The runner asks `next()` for an action, performs it (pre-flight checks, reachability probes,
/// health-gated restarts over SSH) and reports what happened with `record(_:)`. Nothing here
/// touches a host, so every rule is tested table-style without sshd (RolloutTests).
///
/// The rules:
/// - Pre-flight checks run on every configured node before the first restart, once any node
///   owes one; a failed check halts the roll before any restart.
/// - Roles restart in the restart order; a role whose nodes owe nothing is passed over.
/// - Before a role's first restart its members are probed: a member lost since it was
///   configured, or one whose configuration failed, halts the roll before the role (its other
///   nodes are what keeps the role available).
/// - Nodes of a role restart `serial` at a time; more failed health gates than `maxFail` halt
///   the roll.
/// - When the roll halts, every node still owed a restart keeps its pending marker and is
///   reported skipped; the next apply resumes them.
public struct Rollout: Sendable {
  /// A node as the rollout sees it.
  public struct Node: Sendable, Hashable {
    /// It owes a restart: handlers notified now or pending from an earlier run.
    public var due: Bool
    /// Its configuration failed, or it could not be reached at all.
    public var broken: Broken?
    /// Handlers it ran to a healthy end.
    public var restarted = 0
    public var restartFailure: RestartFailure?
    /// Why it was not restarted though it was due.
    public var restartSkipped: String?

    public enum Broken: Sendable, Hashable { case failed, unreachable }

    public init(due: Bool, broken: Broken? = nil) {
      self.due = due
      self.broken = broken
    }
  }

  /// A play's nodes, restarted together, `serial` at a time.
  public struct Role: Sendable, Hashable {
    public var name: String
    public var members: [Int]
    public var serial: Int

    public init(name: String, members: [Int], serial: Int) {
      self.name = name
      self.members = members
      self.serial = max(1, serial)
    }
  }

  public enum Action: Sendable, Hashable {
    /// Run the pre-flight checks on these nodes; report `.preflight`.
    case preflight([Int])
    /// Check these members of a role are still reachable; report `.probed`.
    case probe(role: String, [Int])
    /// A role's restarts begin (for output; nothing to report).
    case begin(role: String, nodes: Int, serial: Int)
    /// Restart these nodes at once; report `.restarted`.
    case restart(role: String, [Int])
    /// Nothing more to do; `halt` says why the roll stopped early, if it did.
    case finished
  }

  public enum Event: Sendable, Hashable {
    /// The checks that failed, by node.
    case preflight(failures: [Int: String])
    /// The members that could not be reached, and why.
    case probed(lost: [Int: String])
    /// What each node of the chunk got.
    case restarted([Int: NodeRestart])
  }

  /// One node's restart: the handlers it ran to a healthy end, and the failure that stopped it.
  public struct NodeRestart: Sendable, Hashable {
    public var count: Int
    public var failure: RestartFailure?

    public init(count: Int, failure: RestartFailure? = nil) {
      self.count = count
      self.failure = failure
    }
  }

  /// Every node of the run; an index is the host's position in the run.
  public private(set) var nodes: [Node]
  public let roles: [Role]
  public let maxFail: Int
  /// Why the roll halted, when it did.
  public private(set) var halt: HaltReason?
  private var stage: Stage
  private var failedGates = 0

  private enum Stage: Sendable, Hashable {
    case preflight, awaitingPreflight
    case probe(Int), awaitingProbe(Int)
    case begin(Int)
    case chunk(role: Int, position: Int), awaitingRestart(role: Int, position: Int, size: Int)
    case done
  }

  /// - Parameters:
  ///   - nodes: every node of the run, in the run's host order.
  ///   - roles: in restart order.
  ///   - preflight: whether there are pre-flight checks to run (and they are not skipped).
  public init(nodes: [Node], roles: [Role], maxFail: Int, preflight: Bool) {
    self.nodes = nodes
    self.roles = roles
    self.maxFail = maxFail
    self.stage = preflight ? .preflight : .probe(0)
  }

  private var anyDue: Bool { nodes.contains { $0.due } }

  private func dueMembers(_ role: Role) -> [Int] { role.members.filter { nodes[$0].due } }

  public mutating func next() -> Action {
    while true {
      switch stage {
      case .preflight:
        let configured = nodes.indices.filter { nodes[$0].broken == nil }
        guard anyDue, !configured.isEmpty else {
          stage = .probe(0)
          continue
        }
        stage = .awaitingPreflight
        return .preflight(configured)
      case .probe(let r):
        guard let next = roles.indices.first(where: { $0 >= r && !dueMembers(roles[$0]).isEmpty }) else {
          stage = .done
          continue
        }
        stage = .awaitingProbe(next)
        return .probe(role: roles[next].name, roles[next].members.filter { nodes[$0].broken == nil })
      case .begin(let r):
        stage = .chunk(role: r, position: 0)
        return .begin(role: roles[r].name, nodes: dueMembers(roles[r]).count, serial: roles[r].serial)
      case .chunk(let r, let position):
        let due = dueMembers(roles[r])
        guard position < due.count else {
          stage = .probe(r + 1)
          continue
        }
        let chunk = Array(due[position..<min(due.count, position + roles[r].serial)])
        stage = .awaitingRestart(role: r, position: position, size: chunk.count)
        return .restart(role: roles[r].name, chunk)
      case .done, .awaitingPreflight, .awaitingProbe, .awaitingRestart:
        stage = .done
        return .finished
      }
    }
  }

  public mutating func record(_ event: Event) {
    switch (stage, event) {
    case (.awaitingPreflight, .preflight(let failures)):
      guard !failures.isEmpty else {
        stage = .probe(0)
        return
      }
      for (i, why) in failures { nodes[i].restartFailure = .preflight(why) }
      for i in nodes.indices where nodes[i].due && nodes[i].restartFailure == nil { nodes[i].restartSkipped = "pre-flight failed" }
      let names = failures.keys.sorted()
      halt = .preflightFailed(names)
      stage = .done
    case (.awaitingProbe(let r), .probed(let lost)):
      for (i, why) in lost { nodes[i].restartFailure = .lostBeforeRestarts(role: roles[r].name, why) }
      let role = roles[r]
      if let bad = role.members.first(where: { nodes[$0].broken != nil || nodes[$0].restartFailure != nil }) {
        for i in dueMembers(role) where nodes[i].broken == nil && nodes[i].restartFailure == nil {
          nodes[i].restartSkipped = "\(role.name) restarts halted"
        }
        halted(role, nodes[bad].broken == .failed ? .memberFailed(bad) : .memberUnreachable(bad))
        return
      }
      stage = .begin(r)
    case (.awaitingRestart(let r, let position, let size), .restarted(let results)):
      var firstFailed: Int?
      for (i, result) in results.sorted(by: { $0.key < $1.key }) {
        nodes[i].restarted += result.count
        if let failure = result.failure {
          nodes[i].restartFailure = failure
          failedGates += 1
          firstFailed = firstFailed ?? i
        }
      }
      if failedGates > maxFail, let failed = firstFailed {
        halted(roles[r], .gateFailed(failed))
        return
      }
      stage = .chunk(role: r, position: position + size)
    default:
      // An event the current action did not ask for: a bug in the driver, not in a host.
      assertionFailure("rollout: \(event) while \(stage)")
    }
  }

  /// Stops the roll at `role`: every node still owed a restart keeps its marker, skipped.
  private mutating func halted(_ role: Role, _ why: HaltReason.Cause) {
    let waiting = nodes.indices.filter { nodes[$0].due && nodes[$0].restarted == 0 && nodes[$0].restartFailure == nil }
    for i in waiting { nodes[i].restartSkipped = nodes[i].restartSkipped ?? "roll halted" }
    halt = .roleHalted(role: role.name, cause: why, waiting: waiting)
    stage = .done
  }
}

/// Why a roll halted, as data; the runner renders it with host names.
public enum HaltReason: Sendable, Hashable {
  /// Pre-flight checks failed on these nodes; no node was restarted.
  case preflightFailed([Int])
  /// The roll stopped at a role; `waiting` are the nodes still owed a restart.
  case roleHalted(role: String, cause: Cause, waiting: [Int])

  public enum Cause: Sendable, Hashable {
    case memberFailed(Int)
    case memberUnreachable(Int)
    case gateFailed(Int)
  }

  /// The message users read, with `name` giving each node's host name.
  public func message(_ name: (Int) -> String) -> String {
    switch self {
    case .preflightFailed(let nodes):
      return "pre-flight checks failed on \(nodes.map(name).joined(separator: ", ")); no node was restarted. Fix the cause and run 'dasprov apply' again (or --skip-preflight): the restarts stay pending."
    case .roleHalted(let role, let cause, let waiting):
      let why: String
      switch cause {
      case .memberFailed(let i): why = "host \(name(i)) failed"
      case .memberUnreachable(let i): why = "host \(name(i)) is unreachable"
      case .gateFailed(let i): why = "the health gate failed on \(name(i))"
      }
      var message = "rolling restart halted at play '\(role)': \(why)."
      if !waiting.isEmpty {
        message += " Not restarted: \(waiting.map(name).joined(separator: ", ")); each keeps a pending-restart marker."
      }
      return message + " Fix the cause, then run 'dasprov apply' again: it resumes the pending restarts."
    }
  }
}

/// Why a node owed a restart did not get a healthy one.
public enum RestartFailure: Sendable, Hashable, CustomStringConvertible {
  /// A pre-flight check failed on it.
  case preflight(String)
  /// It could not be reached just before its role's restarts.
  case lostBeforeRestarts(role: String, String)
  /// A handler failed: its name, and why.
  case handler(String, String)
  /// Its connection was gone.
  case noConnection

  public var description: String {
    switch self {
    case .preflight(let why): return "pre-flight: \(why)"
    case .lostBeforeRestarts(let role, let why): return "unreachable before the \(role) restarts: \(why)"
    case .handler(let name, let why): return "\(name): \(why)"
    case .noConnection: return "no connection"
    }
  }
}
