import DasprovCore
import DasprovDSL

/// Shared rules of `file` and `directory`.
enum PathStateRules {
  static let rules: [StatementRule] = [
    StatementRule("mode", usage: "mode \"0644\""),
    StatementRule("owner", usage: "owner \"wso2\""),
    StatementRule("group", usage: "group \"wso2\""),
    StatementRule("state", usage: "state \"present\" | \"absent\""),
  ]

  static func wantsPresent(_ context: TaskContext) throws(Diagnostic) -> Bool {
    guard let s = context.statement("state"), let p = s.positional else { return true }
    switch try context.string(p, "state") {
    case "present": return true
    case "absent": return false
    case let other: throw Diagnostic.error("state must be \"present\" or \"absent\", got '\(other)'", at: p.range)
    }
  }
}

/// `file`: a regular file exists (created empty if missing) with a mode and owner, or is absent.
public enum FileTask: TaskKind {
  public static let name = "file"
  public static let summary = "a file's mode/owner, or its absence"
  public static let target: String? = "the remote file"
  public static let rules = PathStateRules.rules

  public static func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
    ([FactRequest(try context.targetPath(), [.stat])], [])
  }

  public static func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
    let path = try context.targetPath()
    let facts = try context.pathFacts(path)
    if try !PathStateRules.wantsPresent(context) {
      if facts.type == .directory {
        throw Diagnostic.error("\(path) on \(context.hostName) is a directory; use a directory task", at: context.task.range)
      }
      return TaskPlan(changes: facts.exists ? [.remove(path: path, recursive: false, backup: true)] : [])
    }
    let mode = try context.mode()
    let owner = try context.optionalString("owner", "owner")
    let group = try context.optionalString("group", "group")
    switch facts.type {
    case .missing:
      return TaskPlan(changes: [.write(path: path, content: [], mode: mode ?? 0o644, owner: owner, group: group)])
    case .file:
      return TaskPlan(changes: AttributeCheck.changes(path: path, facts: facts, mode: mode, owner: owner, group: group))
    default:
      throw Diagnostic.error("\(path) on \(context.hostName) is a \(facts.type.rawValue), not a file", at: context.task.range)
    }
  }
}

/// `directory`: a directory exists (with parents) with a mode and owner, or is absent.
public enum DirectoryTask: TaskKind {
  public static let name = "directory"
  public static let summary = "a directory (with parents), its mode/owner, or its absence"
  public static let target: String? = "the remote directory"
  public static let rules = PathStateRules.rules

  public static func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
    ([FactRequest(try context.targetPath(), [.stat])], [])
  }

  public static func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
    let path = try context.targetPath()
    let facts = try context.pathFacts(path)
    if try !PathStateRules.wantsPresent(context) {
      guard facts.exists else { return TaskPlan() }
      guard facts.type == .directory else {
        throw Diagnostic.error("\(path) on \(context.hostName) is a \(facts.type.rawValue), not a directory", at: context.task.range)
      }
      guard path.split(separator: "/").count >= 2 else {
        throw Diagnostic.error("refusing to remove a top-level directory \(path)", at: context.task.range)
      }
      return TaskPlan(changes: [.remove(path: path, recursive: true, backup: false)])
    }
    let mode = try context.mode()
    let owner = try context.optionalString("owner", "owner")
    let group = try context.optionalString("group", "group")
    switch facts.type {
    case .missing:
      return TaskPlan(changes: [.makeDirectory(path: path, mode: mode, owner: owner, group: group)])
    case .directory:
      return TaskPlan(changes: AttributeCheck.changes(path: path, facts: facts, mode: mode, owner: owner, group: group))
    default:
      throw Diagnostic.error("\(path) on \(context.hostName) is a \(facts.type.rawValue), not a directory", at: context.task.range)
    }
  }
}
