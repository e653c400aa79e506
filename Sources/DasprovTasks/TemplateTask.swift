import DasprovCore
import DasprovDSL

/// `template`: renders a module template on the controller and uploads it when its hash differs.
///
/// ```
/// task "spark settings" template "{{ das_home }}/repository/conf/analytics/spark/extra.conf" {
///   from "extra.conf"
///   mode "0644"
/// }
/// ```
public enum TemplateTask: TaskKind {
  public static let name = "template"
  public static let summary = "render a template on the controller and upload it if it differs"
  public static let target: String? = "the remote file to write"
  public static let rules: [StatementRule] = [
    StatementRule("from", required: true, usage: "from \"template-name\" (a file in the module's templates/)"),
    StatementRule("mode", usage: "mode \"0644\""),
    StatementRule("owner", usage: "owner \"wso2\""),
    StatementRule("group", usage: "group \"wso2\""),
  ]

  public struct Arguments: TaskArguments {
    /// The template's name, in the module's `templates/`.
    var template: Expr
    var attributes: FileAttributes

    public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
      ([FactRequest(try context.targetPath(), [.stat, .hash, .content])], [])
    }

    public func check(_ context: TaskContext) throws(Diagnostic) { _ = try context.mode(attributes.mode) }

    public var recordable: Bool { true }

    /// The content is the rendered template (the record says so): only the mode and owner
    /// can differ.
    public func planRecorded(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let path = try context.targetPath()
      let (mode, owner, group) = try attributes.evaluate(context)
      return TaskPlan(
        changes: AttributeCheck.changes(path: path, facts: try context.pathFacts(path), mode: mode, owner: owner, group: group))
    }

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let path = try context.targetPath()
      let rendered = try context.render(template).text
      let desired = Array(rendered.utf8)
      let facts = try context.pathFacts(path)
      let (mode, owner, group) = try attributes.evaluate(context)
      switch facts.type {
      case .directory, .other:
        throw Diagnostic.error("\(path) on \(context.hostName) is a \(facts.type.rawValue), not a file", at: context.task.range)
      case .missing, .file, .symlink:
        break
      }
      var changes: [Change] = []
      var diffs: [ContentDiff] = []
      if !facts.exists || facts.sha256 != SHA256.hex(desired) {
        changes.append(.write(path: path, content: desired, mode: mode ?? facts.mode ?? 0o644, owner: owner, group: group))
        diffs.append(FileDiffs.text(path: path, old: facts.content, new: desired, existed: facts.exists))
      } else {
        changes += AttributeCheck.changes(path: path, facts: facts, mode: mode, owner: owner, group: group)
      }
      return TaskPlan(changes: changes, diffs: diffs)
    }
  }

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    Arguments(template: try statements.requiredPositional("from"), attributes: try FileAttributes(statements))
  }
}

/// Builds `ContentDiff`s for text files.
enum FileDiffs {
  static func text(path: String, old: [UInt8]?, new: [UInt8], existed: Bool) -> ContentDiff {
    guard let newText = String(validating: new, as: UTF8.self) else {
      return .opaque(path: path, description: "binary content, \(new.count) bytes")
    }
    if !existed { return .text(path: path, old: "", new: newText) }
    guard let old, let oldText = String(validating: old, as: UTF8.self) else {
      return .opaque(path: path, description: "content differs (old content not fetched)")
    }
    return .text(path: path, old: oldText, new: newText)
  }
}
