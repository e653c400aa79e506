import DasprovCore

/// One change to make on a host. Planning produces these; the engine executes them, in order,
/// in one remote script per host (large uploads are streamed separately).
public enum Change: Sendable, Hashable {
  /// Replace or create a file atomically (temp file in the same directory, fsync, rename).
  /// `nil` mode/owner/group keep the replaced file's, or use defaults for a new file.
  case write(path: String, content: [UInt8], mode: Int?, owner: String?, group: String?)
  /// Stream a local file to the host, verified by SHA-256; for files too large to embed.
  case upload(path: String, localPath: String, size: Int, sha256: String, mode: Int?, owner: String?, group: String?)
  /// Create or replace a symbolic link atomically.
  case symlink(path: String, target: String)
  case makeDirectory(path: String, mode: Int?, owner: String?, group: String?)
  case setAttributes(path: String, mode: Int?, owner: String?, group: String?)
  /// Remove a file or symlink; directories only with `recursive`. `backup` keeps the removed
  /// file for rollback; pruning, whose point is to free space, does not.
  case remove(path: String, recursive: Bool, backup: Bool)
  /// Run a command (the `command` task), failing the host when it exits non-zero. `stdin` is
  /// fed to it (inside the apply script, never on a command line: it may hold a password);
  /// `label` replaces the command line in output when the arguments say too little.
  case run(argv: [String], chdir: String?, stdin: [UInt8]? = nil, label: String? = nil)

  /// The path this change touches, for backups and messages.
  public var path: String? {
    switch self {
    case .write(let p, _, _, _, _), .upload(let p, _, _, _, _, _, _), .symlink(let p, _),
      .makeDirectory(let p, _, _, _), .setAttributes(let p, _, _, _), .remove(let p, _, _):
      return p
    case .run: return nil
    }
  }

  /// One line for plan output.
  public var summary: String {
    switch self {
    case .write(let p, let c, _, _, _): return "write \(p) (\(c.count) bytes)"
    case .upload(let p, let l, let size, _, _, _, _): return "upload \(l) → \(p) (\(size) bytes)"
    case .symlink(let p, let t): return "link \(p) → \(t)"
    case .makeDirectory(let p, _, _, _): return "mkdir \(p)"
    case .setAttributes(let p, let m, let o, let g):
      var parts: [String] = []
      if let m { parts.append("mode \(String(m, radix: 8))") }
      if let o { parts.append("owner \(o)") }
      if let g { parts.append("group \(g)") }
      return "set \(parts.joined(separator: ", ")) on \(p)"
    case .remove(let p, _, _): return "remove \(p)"
    case .run(let argv, _, _, let label): return label ?? "run \(RemoteCommand(argv).shellLine)"
    }
  }
}

/// How a file's content changes, for `--diff`.
public enum ContentDiff: Sendable, Hashable {
  /// Old and new text of a text file (old is empty for a new file).
  case text(path: String, old: String, new: String)
  /// Element- and attribute-level changes of an XML file.
  case xml(path: String, changes: [XMLChangeLine])
  /// A file whose content we do not show (binary or too large).
  case opaque(path: String, description: String)
}

/// One XML change in readable form: `/axisconfig/clustering/@enable: false → true`.
public struct XMLChangeLine: Sendable, Hashable {
  public var path: String
  public var old: String?
  public var new: String?
  public init(path: String, old: String?, new: String?) {
    self.path = path
    self.old = old
    self.new = new
  }
}

/// The plan for one task on one host.
public struct TaskPlan: Sendable {
  public enum Status: Sendable, Hashable {
    case ok
    case changed
    case skipped(String)
  }

  public var status: Status
  public var changes: [Change]
  public var diffs: [ContentDiff]
  /// Things the user should know, e.g. "no creates/unless guard: runs on every apply".
  public var notes: [String]

  public init(changes: [Change] = [], diffs: [ContentDiff] = [], notes: [String] = []) {
    self.status = changes.isEmpty ? .ok : .changed
    self.changes = changes
    self.diffs = diffs
    self.notes = notes
  }

  public static func skipped(_ reason: String) -> TaskPlan {
    var p = TaskPlan()
    p.status = .skipped(reason)
    return p
  }
}
