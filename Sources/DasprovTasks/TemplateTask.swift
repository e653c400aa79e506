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

  public static func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
    ([FactRequest(try context.targetPath(), [.stat, .hash, .content])], [])
  }

  public static func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
    let path = try context.targetPath()
    let rendered = try context.render(context.statement("from")!.positional!).text
    let desired = Array(rendered.utf8)
    let facts = try context.pathFacts(path)
    let mode = try context.mode()
    let owner = try context.optionalString("owner", "owner")
    let group = try context.optionalString("group", "group")
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

/// Mode/owner/group drift on an existing path.
enum AttributeCheck {
  static func changes(path: String, facts: PathFacts, mode: Int?, owner: String?, group: String?) -> [Change] {
    let modeDiffers = mode.map { $0 != facts.mode } ?? false
    let ownerDiffers = owner.map { $0 != facts.owner } ?? false
    let groupDiffers = group.map { $0 != facts.group } ?? false
    guard modeDiffers || ownerDiffers || groupDiffers else { return [] }
    return [
      .setAttributes(
        path: path, mode: modeDiffers ? mode : nil, owner: ownerDiffers ? owner : nil,
        group: groupDiffers ? group : nil)
    ]
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
