import DasprovTasks

/// How one planned task ended on its host: what the recap, the progress line and `--json`
/// count. In apply mode a task counts as changed only once every change it planned was made.
public enum TaskResult: Sendable, Hashable {
  case ok
  case changed
  /// The change that failed was this task's, or only part of its changes were made.
  case failed
  case skipped(String)

  /// Why a task planned to change was not: the host failed before its changes were reached.
  public static let notAttempted = "not attempted: an earlier change of this host failed"
}

/// What the apply step got through on one host: the indices (in `HostPlan.changes`) of the
/// changes made, and the one that failed. A host whose apply never started has none made.
public struct ApplyProgress: Sendable, Hashable {
  public var done: Set<Int> = []
  public var failed: Int?

  public init(done: Set<Int> = [], failed: Int? = nil) {
    self.done = done
    self.failed = failed
  }
}

extension HostOutcome {
  /// Each planned task's result, in plan order.
  public func taskResults(_ mode: RunMode) -> [TaskResult] {
    guard let plan else { return [] }
    var changesOf = Array(repeating: [Int](), count: plan.tasks.count)
    for (change, owners) in plan.changeOwners.enumerated() {
      for t in owners where t < changesOf.count { changesOf[t].append(change) }
    }
    return plan.tasks.enumerated().map { index, task in
      switch task.plan.status {
      case .ok: return .ok
      case .skipped(let why): return .skipped(why)
      case .changed:
        guard mode == .apply else { return .changed }
        guard let progress = applyProgress else {
          return failure == nil ? .changed : .skipped(TaskResult.notAttempted)
        }
        let mine = changesOf[index]
        if mine.allSatisfy(progress.done.contains) { return .changed }
        if let f = progress.failed, mine.contains(f) { return .failed }
        if mine.contains(where: progress.done.contains) { return .failed }
        return .skipped(TaskResult.notAttempted)
      }
    }
  }
}
