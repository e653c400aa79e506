import DasprovCore
import DasprovDSL

/// `command`: runs a command unless a guard says it has already been done.
///
/// `creates PATH` skips it when the path exists; `unless [argv]` skips it when that command exits
/// 0. Guards are evaluated during fact gathering, so deciding costs no extra round trip. Without
/// a guard the command runs on every apply and the plan says so: it cannot be idempotent.
///
/// ```
/// task "load schema" command ["sh", "-c", "mysql regdb < {{ das_home }}/dbscripts/mysql.sql"] {
///   unless ["sh", "-c", "mysql -e 'select 1 from REG_LOG limit 1' regdb"]
/// }
/// ```
public enum CommandTask: TaskKind {
  public static let name = "command"
  public static let summary = "run a command, guarded by creates/unless"
  public static let target: String? = "the command, as a list of arguments"
  public static let rules: [StatementRule] = [
    StatementRule("creates", usage: "creates \"/path/it/creates\""),
    StatementRule("unless", usage: "unless [\"cmd\", \"arg\"] (skip when it exits 0)"),
    StatementRule("chdir", usage: "chdir \"/directory\""),
  ]

  public struct Arguments: TaskArguments {
    /// `creates PATH`: done when the path exists.
    var creates: Expr?
    /// `unless [argv]`: done when that command exits 0.
    var unless: Expr?
    var chdir: Expr?

    func argv(_ context: TaskContext) throws(Diagnostic) -> [String] {
      guard let target = context.task.target else {
        throw Diagnostic.error("command task '\(context.task.name)' needs the command after 'command'", at: context.task.kind.range)
      }
      return try context.argv(target, "command")
    }

    public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
      _ = try argv(context)
      var paths: [FactRequest] = []
      var probes: [ProbeRequest] = []
      if let creates { paths.append(FactRequest(try context.path(creates, "creates"), [.stat])) }
      if let unless { probes.append(ProbeRequest(try context.argv(unless, "unless"))) }
      return (paths, probes)
    }

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let command = try argv(context)
      let chdir = try self.chdir.map { e throws(Diagnostic) in try context.path(e, "chdir") }
      if let creates {
        let path = try context.path(creates, "creates")
        if try context.pathFacts(path).exists { return TaskPlan() }
      }
      if let unless {
        let probe = try context.argv(unless, "unless")
        if context.facts?.probes[probe] == 0 { return TaskPlan() }
      }
      var plan = TaskPlan(changes: [.run(argv: command, chdir: chdir)])
      if creates == nil && unless == nil {
        plan.notes.append("no creates/unless guard: this command runs on every apply")
      }
      return plan
    }
  }

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    Arguments(
      creates: try statements.optionalPositional("creates"), unless: try statements.optionalPositional("unless"),
      chdir: try statements.optionalPositional("chdir"))
  }
}
