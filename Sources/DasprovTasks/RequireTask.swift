import DasprovCore
import DasprovDSL
#if canImport(Glibc)
import Glibc
#endif

/// `require`: a precondition on a host's files, checked as soon as its facts are in. When it
/// does not hold, the node could not start as configured, and the run stops before any host
/// changes (the error's code says so): better than configuring every node and halting the roll
/// at the first restart.
///
/// ```
/// task "a MySQL connector on the node" require "{{ das_home }}/repository/components/lib" when mysql_jdbc_jar == none {
///   file_matching ["mysql-connector-java-*.jar", "mysql-connector-j-*.jar"]
///   because "no MySQL connector …: set mysql_jdbc_jar"
/// }
/// ```
public enum RequireTask: TaskKind {
  public static let name = "require"
  public static let summary = "a file matching one of some patterns must be in a directory, or the run stops before any change"
  public static let target: String? = "the directory to look in"
  public static let rules: [StatementRule] = [
    StatementRule("file_matching", required: true, usage: "file_matching [\"mysql-connector-java-*.jar\"] (shell patterns)"),
    StatementRule("because", required: true, usage: "because \"what is missing, and what to do about it\""),
  ]

  public struct Arguments: TaskArguments {
    var patterns: Expr
    var because: Expr

    public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
      ([FactRequest(try context.targetPath(), [.stat, .listing])], [])
    }

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let directory = try context.targetPath()
      guard case .list(let items) = try context.value(patterns), !items.isEmpty else {
        throw Diagnostic.error("file_matching must be a list of patterns", at: patterns.range)
      }
      let globs = items.map(\.description)
      let facts = try context.pathFacts(directory)
      // Files directly in the directory: a listing entry without a slash.
      let names = facts.type == .directory ? (facts.entries ?? []).filter { !$0.contains("/") } : []
      if names.contains(where: { name in globs.contains { RequireTask.matches($0, name) } }) { return TaskPlan() }
      let why = try context.string(because, "because")
      throw Diagnostic(.error, why, at: context.task.range, code: .nodeCannotStart)
    }
  }

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    Arguments(patterns: try statements.requiredPositional("file_matching"), because: try statements.requiredPositional("because"))
  }

  /// A shell pattern (`*`, `?`, `[…]`) against a file name, as the shell matches it.
  static func matches(_ pattern: String, _ name: String) -> Bool {
    fnmatch(pattern, name, 0) == 0
  }
}
