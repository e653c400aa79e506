import DasprovTasks

/// What a run prints about each host as its configuration finishes: one line per host that
/// changed or failed, or (with -v, --diff, or in plan mode) one line per task.
struct ProgressPrinter {
  let output: Output
  let mode: RunMode
  let diff: Bool

  /// The lines for one host once its configuration is done (or failed).
  func report(_ o: HostOutcome) {
    if let u = o.unreachable {
      output.say(output.paint("\(o.host.name): UNREACHABLE: \(u)", .failed))
      return
    }
    // A host that failed before its apply began (facts, planning): its one error says it all.
    guard let plan = o.plan, o.failure == nil || o.applyProgress != nil || mode == .plan else {
      if let f = o.failure { output.say(output.paint("\(o.host.name): FAILED: \(f)", .failed)) }
      return
    }
    let results = o.taskResults(mode)
    if mode != .plan && output.verbosity == 0 && !diff {
      // Apply, not verbose: one line per host that changed or failed; -v lists every task.
      let line = Self.summaryLine(host: o.host.name, tasks: plan.tasks, results: results, failure: o.failure?.description)
      if let line {
        output.say(output.paint(line, o.failure == nil ? .changed : .failed))
        for (t, r) in zip(plan.tasks, results) where r == .changed { for n in t.plan.notes { output.say("    note: \(n)") } }
      }
      return
    }
    if let f = o.failure { output.say(output.paint("\(o.host.name): FAILED: \(f)", .failed)) }
    for (t, result) in zip(plan.tasks, results) {
      switch result {
      case .changed, .failed:
        let verb = mode == .plan ? "would change" : (result == .failed ? "failed" : "changed")
        output.say(output.paint("\(o.host.name): \(verb): \(t.instance.label)", result == .failed ? .failed : .changed))
        for c in t.plan.changes { output.verbose(1, "    \(c.summary)") }
        for n in t.plan.notes { output.say("    note: \(n)") }
        if diff { for d in t.plan.diffs { output.say(DiffRenderer.render(d, output: output)) } }
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
    if mode == .plan {
      for h in plan.pending { output.say(output.paint("\(o.host.name): would run handler '\(h)' (pending from an earlier run)", .changed)) }
      for h in plan.notified { output.say(output.paint("\(o.host.name): would run handler '\(h)'", .changed)) }
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
