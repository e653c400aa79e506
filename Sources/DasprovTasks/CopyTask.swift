import DasprovCore
import DasprovDSL
import Foundation

/// `copy`: a local file, or the files of a local directory, to the host; skipped when hashes match.
///
/// ```
/// task "C-Apps" copy "{{ das_home }}/repository/deployment/server/carbonapps" when das_carbon_apps != none {
///   from das_carbon_apps
///   pattern "*.car"
/// }
/// ```
/// With a directory source the target is a directory; with a file source the target is the file.
public enum CopyTask: TaskKind {
  public static let name = "copy"
  public static let summary = "copy a local file or directory's files to the host if they differ"
  public static let target: String? = "the remote file, or directory for a directory source"
  public static let rules: [StatementRule] = [
    StatementRule("from", required: true, usage: "from \"/local/path\" (a file, or a directory of files)"),
    StatementRule("pattern", usage: "pattern \"*.car\" (directory sources only)"),
    StatementRule("mode", usage: "mode \"0644\""),
    StatementRule("owner", usage: "owner \"wso2\""),
    StatementRule("group", usage: "group \"wso2\""),
  ]

  /// Files up to this size are embedded in the host's apply script; larger ones are streamed.
  public static let embedLimit = 4 << 20

  struct Item {
    var local: String
    var remote: String
  }

  public struct Arguments: TaskArguments {
    /// The local file or directory.
    var source: Expr
    /// Which files of a directory source to copy.
    var pattern: Expr?
    var attributes: FileAttributes

    func items(_ context: TaskContext) throws(Diagnostic) -> (items: [Item], directory: String?) {
      let target = try context.targetPath()
      var local = (try context.string(source, "copy source") as NSString).expandingTildeInPath
      if !local.hasPrefix("/") {
        // As in Ansible: a module's own files/ first, then the inventory's directory (for paths
        // that come from inventory variables, such as das_carbon_apps).
        let moduleFile = (context.templates.baseDirectory as NSString).appendingPathComponent("files/" + local)
        if FileManager.default.fileExists(atPath: moduleFile) {
          local = moduleFile
        } else {
          let base = (try? context.scope.lookup("inventory_dir"))??.stringValue ?? context.templates.baseDirectory
          local = (base as NSString).appendingPathComponent(local)
        }
      }
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: local, isDirectory: &isDirectory) else {
        throw Diagnostic.error("copy source \(local) does not exist on the controller", at: source.range)
      }
      guard isDirectory.boolValue else { return ([Item(local: local, remote: target)], nil) }
      let pattern = try context.optionalString(self.pattern, "pattern") ?? "*"
      let names: [String]
      do {
        names = try FileManager.default.contentsOfDirectory(atPath: local).sorted()
      } catch {
        throw Diagnostic.error("cannot list \(local): \(error.localizedDescription)", at: source.range)
      }
      var items: [Item] = []
      for name in names where !name.hasPrefix(".") && fnmatch(pattern, name, 0) == 0 {
        var dir: ObjCBool = false
        let full = (local as NSString).appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: full, isDirectory: &dir), !dir.boolValue {
          items.append(Item(local: full, remote: target + "/" + name))
        }
      }
      return (items, target)
    }

    public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
      let (items, directory) = try items(context)
      var requests = items.map { FactRequest($0.remote, [.stat, .hash]) }
      if let directory { requests.append(FactRequest(directory, [.stat])) }
      return (requests, [])
    }

    public func check(_ context: TaskContext) throws(Diagnostic) { _ = try context.mode(attributes.mode) }

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let (items, directory) = try items(context)
      let (mode, owner, group) = try attributes.evaluate(context)
      var changes: [Change] = []
      var diffs: [ContentDiff] = []
      if let directory {
        let d = try context.pathFacts(directory)
        if !d.exists {
          changes.append(.makeDirectory(path: directory, mode: nil, owner: owner, group: group))
        } else if d.type != .directory {
          throw Diagnostic.error("\(directory) on \(context.hostName) is not a directory", at: context.task.range)
        }
      }
      for item in items {
        let (size, hash) = try LocalFileHash.of(item.local, at: context.task.range)
        let facts = try context.pathFacts(item.remote)
        if facts.type == .directory {
          throw Diagnostic.error("\(item.remote) on \(context.hostName) is a directory", at: context.task.range)
        }
        if facts.sha256 == hash {
          changes += AttributeCheck.changes(path: item.remote, facts: facts, mode: mode, owner: owner, group: group)
          continue
        }
        let finalMode = mode ?? facts.mode ?? 0o644
        if size <= embedLimit, let data = FileManager.default.contents(atPath: item.local) {
          changes.append(.write(path: item.remote, content: Array(data), mode: finalMode, owner: owner, group: group))
        } else {
          changes.append(
            .upload(path: item.remote, localPath: item.local, size: size, sha256: hash, mode: finalMode, owner: owner, group: group))
        }
        diffs.append(
          .opaque(path: item.remote, description: facts.exists ? "content differs (\(size) bytes)" : "new file (\(size) bytes)"))
      }
      return TaskPlan(changes: changes, diffs: diffs)
    }
  }

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    Arguments(
      source: try statements.requiredPositional("from"), pattern: try statements.optionalPositional("pattern"),
      attributes: try FileAttributes(statements))
  }
}

/// Streams a local file through SHA-256 with bounded memory.
public enum LocalFileHash {
  public static func of(_ path: String, at range: SourceRange) throws(Diagnostic) -> (size: Int, sha256: String) {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw Diagnostic.error("cannot read \(path) on the controller", at: range)
    }
    defer { try? handle.close() }
    var hasher = SHA256()
    var size = 0
    while true {
      let chunk = handle.readData(ofLength: 1 << 20)
      if chunk.isEmpty { break }
      size += chunk.count
      hasher.update(chunk)
    }
    return (size, hasher.finalizeHex())
  }
}
