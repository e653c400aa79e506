import DasprovCore
import DasprovDSL

/// The rules `file` and `directory` share.
enum PathStateRules {
  static let rules: [StatementRule] = [
    StatementRule("mode", usage: "mode \"0644\""),
    StatementRule("owner", usage: "owner \"wso2\""),
    StatementRule("group", usage: "group \"wso2\""),
    StatementRule("state", usage: "state \"present\" | \"absent\""),
  ]
}

/// What a `file` or `directory` task wants: present (with attributes) or absent.
struct PathState: Sendable {
  var state: Expr?
  var attributes: FileAttributes

  init(_ statements: Statements) throws(Diagnostic) {
    state = try statements.optionalPositional("state")
    attributes = try FileAttributes(statements)
  }

  func wantsPresent(_ context: TaskContext) throws(Diagnostic) -> Bool {
    guard let state else { return true }
    switch try context.string(state, "state") {
    case "present": return true
    case "absent": return false
    case let other: throw Diagnostic.error("state must be \"present\" or \"absent\", got '\(other)'", at: state.range)
    }
  }
}

/// The arguments of the kinds that keep one path present with a mode and owner, or absent
/// (`file`, `directory`): what they need to know of the host, and what they check, is the same.
protocol PathStateArguments: TaskArguments {
  var desired: PathState { get }
}

extension PathStateArguments {
  public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
    ([FactRequest(try context.targetPath(), [.stat])], [])
  }

  public func check(_ context: TaskContext) throws(Diagnostic) { _ = try context.mode(desired.attributes.mode) }
}

/// `file`: a regular file exists (created empty if missing) with a mode and owner, or is absent.
public enum FileTask: TaskKind {
  public static let name = "file"
  public static let summary = "a file's mode/owner, or its absence"
  public static let target: String? = "the remote file"
  public static let rules = PathStateRules.rules

  public struct Arguments: PathStateArguments {
    var desired: PathState

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let path = try context.targetPath()
      let facts = try context.pathFacts(path)
      if try !desired.wantsPresent(context) {
        if facts.type == .directory {
          throw Diagnostic.error("\(path) on \(context.hostName) is a directory; use a directory task", at: context.task.range)
        }
        return TaskPlan(changes: facts.exists ? [.remove(path: path, recursive: false, backup: true)] : [])
      }
      let (mode, owner, group) = try desired.attributes.evaluate(context)
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

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    Arguments(desired: try PathState(statements))
  }
}

/// `directory`: a directory exists (with parents) with a mode and owner, or is absent.
public enum DirectoryTask: TaskKind {
  public static let name = "directory"
  public static let summary = "a directory (with parents), its mode/owner, or its absence"
  public static let target: String? = "the remote directory"
  public static let rules = PathStateRules.rules

  public struct Arguments: PathStateArguments {
    var desired: PathState

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let path = try context.targetPath()
      let facts = try context.pathFacts(path)
      if try !desired.wantsPresent(context) {
        guard facts.exists else { return TaskPlan() }
        guard facts.type == .directory else {
          throw Diagnostic.error("\(path) on \(context.hostName) is a \(facts.type.rawValue), not a directory", at: context.task.range)
        }
        guard path.split(separator: "/").count >= 2 else {
          throw Diagnostic.error("refusing to remove a top-level directory \(path)", at: context.task.range)
        }
        return TaskPlan(changes: [.remove(path: path, recursive: true, backup: false)])
      }
      let (mode, owner, group) = try desired.attributes.evaluate(context)
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

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    Arguments(desired: try PathState(statements))
  }
}
