import DasprovCore
import DasprovTasks

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

/// Why a host's configuration did not go through (its restarts are another matter:
/// `RestartFailure`).
public enum HostFailure: Error, Sendable, CustomStringConvertible {
  /// The plan could not be made: a task's arguments, a template, a file on the host.
  case planning([Diagnostic])
  /// The fact round trip failed or answered nonsense.
  case facts(String)
  /// A change failed on the host (`change` is its index in the plan's changes, when known), or
  /// the apply program stopped early.
  case apply(change: Int?, message: String)
  case rollback(String)

  public var description: String {
    switch self {
    case .planning(let diagnostics):
      // With a place in a file, the place leads; without one, the message says it all.
      return diagnostics.map { $0.range == nil ? $0.message : $0.description }.joined(separator: "; ")
    case .facts(let message), .apply(_, let message), .rollback(let message): return message
    }
  }
}

/// What happened on one host during a run.
public struct HostOutcome: Sendable {
  public var host: HostSpec
  public var unreachable: ConnectError?
  public var failure: HostFailure?
  public var plan: HostPlan?
  /// What the apply step made of the plan's changes (apply mode, once it started).
  public var applyProgress: ApplyProgress?
  /// Handlers this host still needs to run (notified now or pending from before).
  public var handlersDue: [String] = []
  public var restarted = 0
  public var restartFailure: RestartFailure?
  public var restartSkipped: String?
  public var roundTrips = 0
  public var channels = 0
  public var bytesReceived = 0
  public var seconds = 0.0

  public init(host: HostSpec) { self.host = host }

  public var failed: Bool { failure != nil || restartFailure != nil }
}

/// The result of a whole run.
public struct RunReport: Sendable {
  public var mode: RunMode
  public var outcomes: [HostOutcome]
  /// Why the rolling restart halted, in words.
  public var halted: String?
  public var seconds: Double

  /// 0 success, 2 plan found changes, 3 a host failed, was unreachable, or the roll halted.
  public var exitCode: Int32 {
    if outcomes.contains(where: { $0.unreachable != nil || $0.failed }) || halted != nil { return 3 }
    if mode == .plan, outcomes.contains(where: { !($0.plan?.changes.isEmpty ?? true) || !$0.handlersDue.isEmpty }) { return 2 }
    return 0
  }
}
