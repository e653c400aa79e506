import DasprovCore
import DasprovDSL

/// `prune`: in each directory below the target, keeps the newest K files matching a pattern and
/// deletes the rest.
///
/// The pattern's first capture group is the file's timestamp; files are grouped by directory and
/// ordered by that number, newest first. For DAS's `cep_persistence/<tenant>/<plan>/<TS>_<PLAN>`:
/// ```
/// task "trim CEP state" prune "{{ das_home }}/cep_persistence" when das_cep_prune {
///   match '^([0-9]+)_'
///   keep 2
/// }
/// ```
public enum PruneTask: TaskKind {
  public static let name = "prune"
  public static let summary = "keep the newest K timestamped files per directory, delete the rest"
  public static let target: String? = "the directory to scan"
  public static let rules: [StatementRule] = [
    StatementRule("match", required: true, usage: "match '^([0-9]+)_' (capture 1 is the timestamp)"),
    StatementRule("keep", required: true, usage: "keep 2"),
  ]

  public struct Arguments: TaskArguments {
    /// The file-name regex; capture 1 is the timestamp.
    var match: Expr
    /// How many files to keep per directory.
    var keep: Expr

    public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
      ([FactRequest(try context.targetPath(), [.stat, .listing])], [])
    }

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let root = try context.targetPath()
      let regex = try LineTask.regex(context, match)
      let keep = try context.int(self.keep, "keep")
      guard keep >= 1 else { throw Diagnostic.error("keep must be at least 1", at: self.keep.range) }
      let facts = try context.pathFacts(root)
      guard facts.exists else { return TaskPlan() }
      guard facts.type == .directory else {
        throw Diagnostic.error("\(root) on \(context.hostName) is not a directory", at: context.task.range)
      }
      var groups: [String: [(stamp: Int, path: String)]] = [:]
      for entry in facts.entries ?? [] {
        let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
        guard let name = parts.last.map(String.init) else { continue }
        let dir = parts.dropLast().joined(separator: "/")
        guard let captures = regex.firstMatch(name) else { continue }
        let stamp = captures.count > 1 ? Int(captures[1] ?? "") ?? 0 : 0
        groups[dir, default: []].append((stamp, root + "/" + entry))
      }
      var changes: [Change] = []
      for (_, files) in groups.sorted(by: { $0.key < $1.key }) {
        let newestFirst = files.sorted { ($0.stamp, $0.path) > ($1.stamp, $1.path) }
        for file in newestFirst.dropFirst(keep) { changes.append(.remove(path: file.path, recursive: false, backup: false)) }
      }
      return TaskPlan(changes: changes)
    }
  }

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    Arguments(match: try statements.requiredPositional("match"), keep: try statements.requiredPositional("keep"))
  }
}
