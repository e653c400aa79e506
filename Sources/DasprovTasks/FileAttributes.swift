import DasprovCore
import DasprovDSL

/// `mode`, `owner` and `group` of the kinds that create files or directories.
public struct FileAttributes: Sendable {
  public var mode: Expr?
  public var owner: Expr?
  public var group: Expr?

  init(_ statements: Statements) throws(Diagnostic) {
    mode = try statements.optionalPositional("mode")
    owner = try statements.optionalPositional("owner")
    group = try statements.optionalPositional("group")
  }

  /// The values for this host; nil where the task leaves the attribute as it is.
  func evaluate(_ context: TaskContext) throws(Diagnostic) -> (mode: Int?, owner: String?, group: String?) {
    (try context.mode(mode), try context.optionalString(owner, "owner"), try context.optionalString(group, "group"))
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
