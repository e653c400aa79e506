import DasprovCore
import DasprovTasks
import Foundation

/// The end-of-run summary: the recap lines of the contract, and the `--json` document.
public enum Report {
  /// `HOST : ok=N changed=N failed=N skipped=N unreachable=N restarted=N`, one line per host.
  public static func recap(_ report: RunReport) -> [String] {
    report.outcomes.map { o in
      let c = counts(o, report.mode)
      return "\(o.host.name) : ok=\(c.ok) changed=\(c.changed) failed=\(c.failed) skipped=\(c.skipped) unreachable=\(c.unreachable) restarted=\(o.restarted)"
    }
  }

  struct Counts {
    var ok = 0, changed = 0, failed = 0, skipped = 0, unreachable = 0
  }

  static func counts(_ o: HostOutcome, _ mode: RunMode) -> Counts {
    var c = Counts()
    if o.unreachable != nil {
      c.unreachable = 1
      return c
    }
    // In apply mode a change counts once it has been made; in plan mode, as planned. A task
    // whose change failed (or was made only in part) is failed; one never reached, skipped.
    for result in o.taskResults(mode) {
      switch result {
      case .ok: c.ok += 1
      case .changed:
        c.ok += 1  // as in Ansible's recap, ok counts the changed tasks too
        c.changed += 1
      case .failed: c.failed += 1
      case .skipped: c.skipped += 1
      }
    }
    // A failure no task owns (facts, the state directory) or a failed restart still counts.
    if o.failure != nil && c.failed == 0 { c.failed = 1 }
    if o.restartFailure != nil { c.failed += 1 }
    return c
  }

  /// One line after the recap: how long, how many changes and restarts, and why it halted.
  public static func summary(_ report: RunReport) -> String {
    let changed = report.outcomes.filter { counts($0, report.mode).changed > 0 }.count
    let restarts = report.outcomes.reduce(0) { $0 + $1.restarted }
    let trips = report.outcomes.map(\.roundTrips)
    var s = "\(report.outcomes.count) host\(report.outcomes.count == 1 ? "" : "s"), \(changed) with changes, \(restarts) restart\(restarts == 1 ? "" : "s") in \(String(format: "%.2f", report.seconds))s"
    if let maxTrips = trips.max() { s += " (≤ \(maxTrips) round trip\(maxTrips == 1 ? "" : "s") per host)" }
    return s
  }

  /// The `--json` document (schema `dasprov.run/1`, documented in docs/json.md).
  public static func json(_ report: RunReport, runID: String, diff: Bool) -> String {
    var hosts: [Value] = []
    for o in report.outcomes {
      let c = counts(o, report.mode)
      var tasks: [Value] = []
      for (t, result) in zip(o.plan?.tasks ?? [], o.taskResults(report.mode)) {
        var status: String
        var reason: Value = .null
        switch result {
        case .ok: status = "ok"
        case .changed: status = "changed"
        case .failed: status = "failed"
        case .skipped(let why):
          status = "skipped"
          reason = .string(why)
        }
        var entry: [String: Value] = [
          "module": .string(t.instance.module.name), "play": .string(t.instance.play.name), "task": .string(t.instance.task.name),
          "status": .string(status), "changes": .list(t.plan.changes.map { .string($0.summary) }),
          "notes": .list(t.plan.notes.map { .string($0) }),
        ]
        if !reason.isNull { entry["reason"] = reason }
        if let item = t.instance.loopValue { entry["item"] = item }
        if diff { entry["diff"] = .list(t.plan.diffs.map(diffValue)) }
        tasks.append(.map(entry))
      }
      let status: String
      if o.unreachable != nil { status = "unreachable" } else if o.failed { status = "failed" } else if c.changed > 0 || o.restarted > 0 { status = "changed" } else { status = "ok" }
      var host: [String: Value] = [
        "name": .string(o.host.name), "status": .string(status), "ok": .int(c.ok), "changed": .int(c.changed),
        "failed": .int(c.failed), "skipped": .int(c.skipped), "unreachable": .int(c.unreachable), "restarted": .int(o.restarted),
        "round_trips": .int(o.roundTrips), "channels": .int(o.channels), "bytes_received": .int(o.bytesReceived),
        "seconds": .double((o.seconds * 1000).rounded() / 1000),
        "tasks": .list(tasks), "handlers": .list(o.handlersDue.map { .string($0) }),
      ]
      if let u = o.unreachable {
        host["error"] = .string(u.message)
        host["error_kind"] = .string(u.kind.jsonName)
      }
      if let f = o.failure {
        host["error"] = .string(f.description)
        host["error_kind"] = .string(f.jsonName)
      }
      if let r = o.restartFailure { host["restart_error"] = .string(r.description) }
      if let s = o.restartSkipped { host["restart_skipped"] = .string(s) }
      hosts.append(.map(host))
    }
    let summary: [String: Value] = [
      "hosts": .int(report.outcomes.count),
      "changed_hosts": .int(report.outcomes.filter { counts($0, report.mode).changed > 0 }.count),
      "failed_hosts": .int(report.outcomes.filter(\.failed).count),
      "unreachable_hosts": .int(report.outcomes.filter { $0.unreachable != nil }.count),
      "restarts": .int(report.outcomes.reduce(0) { $0 + $1.restarted }),
      "halted": report.halted.map { .string($0) } ?? .null,
      "seconds": .double((report.seconds * 1000).rounded() / 1000),
    ]
    let doc: Value = [
      "schema": "dasprov.run/1", "mode": .string(report.mode.rawValue), "run_id": .string(runID), "hosts": .list(hosts),
      "summary": .map(summary), "exit_code": .int(Int(report.exitCode)),
    ]
    return doc.jsonString(sortedKeys: true, pretty: true)
  }

  static func diffValue(_ d: ContentDiff) -> Value {
    switch d {
    case .text(let path, let old, let new):
      return ["path": .string(path), "kind": "text", "unified": .string(UnifiedDiff.diff(old: old, new: new, oldName: path, newName: path))]
    case .xml(let path, let changes):
      return [
        "path": .string(path), "kind": "xml",
        "changes": .list(changes.map { ["path": .string($0.path), "old": $0.old.map { .string($0) } ?? .null, "new": $0.new.map { .string($0) } ?? .null] }),
      ]
    case .opaque(let path, let description):
      return ["path": .string(path), "kind": "opaque", "description": .string(description)]
    }
  }
}

extension ConnectError.Kind {
  /// As `--json` names it: why a host was unreachable.
  var jsonName: String {
    switch self {
    case .unreachable: "unreachable"
    case .authentication: "authentication"
    case .hostKey: "host_key"
    case .configuration: "configuration"
    }
  }
}

extension HostFailure {
  /// As `--json` names it: the step of the host's configuration that failed.
  var jsonName: String {
    switch self {
    case .planning: "planning"
    case .facts: "facts"
    case .apply: "apply"
    case .rollback: "rollback"
    }
  }
}
