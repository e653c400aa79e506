import DasprovCore
import DasprovDSL

/// `link`: a symbolic link pointing at `to`, replacing a link with a wrong target.
///
/// A regular file or directory in the way is an error, never silently replaced: it may be a real
/// DAS installation.
///
/// ```
/// task "DAS symlink" link das_link { to das_home }
/// ```
public enum LinkTask: TaskKind {
  public static let name = "link"
  public static let summary = "a symbolic link to a target, replacing a wrong link"
  public static let target: String? = "the link's path"
  public static let rules: [StatementRule] = [
    StatementRule("to", required: true, usage: "to \"/target/path\"")
  ]

  public struct Arguments: TaskArguments {
    /// What the link points at.
    var target: Expr

    public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
      ([FactRequest(try context.targetPath(), [.stat])], [])
    }

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let path = try context.targetPath()
      let target = try context.string(self.target, "link target")
      guard !target.isEmpty else { throw Diagnostic.error("link target is empty", at: self.target.range) }
      let facts = try context.pathFacts(path)
      switch facts.type {
      case .symlink where facts.linkTarget == target:
        return TaskPlan()
      case .missing, .symlink:
        let old = facts.linkTarget.map { "\($0)\n" } ?? ""
        return TaskPlan(
          changes: [.symlink(path: path, target: target)],
          diffs: [.text(path: path, old: old.isEmpty ? "" : "→ " + old, new: "→ \(target)\n")])
      case .file, .directory, .other:
        throw Diagnostic.error(
          "\(path) on \(context.hostName) is a \(facts.type.rawValue), not a symlink; move it away first",
          at: context.task.range)
      }
    }
  }

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    Arguments(target: try statements.requiredPositional("to"))
  }
}
