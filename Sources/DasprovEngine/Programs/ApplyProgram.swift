import DasprovCore
import DasprovShell
import DasprovTasks

/// apply.sh for one host: all its changes, in order, each file atomically with a backup, after
/// the pending-restart markers of the handlers they notify.
public struct ApplyProgram: Sendable {
  public var changes: [Change]
  public var runID: String
  public var notify: [String]
  /// Where large uploads were staged before the program runs (by the transport).
  public var stagingDirectory: String
  public var hostName: String
  /// Lines for the host's record, written once every change is made.
  public var records: [(tag: UInt64, record: FileRecord)]

  public init(
    changes: [Change], runID: String, notify: [String], stagingDirectory: String, hostName: String,
    records: [(tag: UInt64, record: FileRecord)] = []
  ) {
    self.changes = changes
    self.runID = runID
    self.notify = notify
    self.stagingDirectory = stagingDirectory
    self.hostName = hostName
    self.records = records
  }

  public var program: ShellProgram {
    var p = ShellProgram("apply.sh")
    p.set("RUN", runID)
    p.set("HOST", hostName)
    if !notify.isEmpty { p.step("pending", notify) }
    for (index, change) in changes.enumerated() {
      let i = String(index)
      switch change {
      case .write(let path, let content, let mode, let owner, let group):
        p.step("write", [i, path, Self.octal(mode), owner ?? "", group ?? ""], input: content)
      case .upload(let path, _, _, let sha, let mode, let owner, let group):
        p.step("upload", [i, path, stagingDirectory + "/" + sha, sha, Self.octal(mode), owner ?? "", group ?? ""])
      case .symlink(let path, let target):
        p.step("link", [i, path, target])
      case .makeDirectory(let path, let mode, let owner, let group):
        p.step("directory", [i, path, Self.octal(mode), owner ?? "", group ?? ""])
      case .setAttributes(let path, let mode, let owner, let group):
        p.step("attributes", [i, path, Self.octal(mode), owner ?? "", group ?? ""])
      case .remove(let path, let recursive, let backup):
        p.step("remove", [i, path, recursive ? "recursive" : "", backup ? "backup" : ""])
      case .run(let argv, let chdir, let stdin, _):
        if let stdin {
          p.step("run_input", [i, chdir ?? ""] + argv, input: stdin)
        } else {
          p.step("run", [i, chdir ?? ""] + argv)
        }
      }
    }
    if !records.isEmpty {
      p.step("record", records.flatMap { [Digest256.hex16($0.tag), $0.record.key.description, $0.record.output.description] })
    }
    return p
  }

  static func octal(_ mode: Int?) -> String { mode.map { String($0, radix: 8) } ?? "" }

  /// What apply.sh prints.
  public enum Event: ProgramEvent, Hashable {
    /// Change I was made.
    case done(Int)
    /// Change I failed (-1: the run itself, before any change), and why.
    case failed(Int, String)
    /// Every change was made.
    case applied

    public init?(_ line: ProgramLine) {
      switch line.tag {
      case "done":
        guard let i = Int(line.rest) else { return nil }
        self = .done(i)
      case "fail":
        let parts = line.rest.split(separator: " ", maxSplits: 1)
        self = .failed(parts.first.flatMap { Int($0) } ?? -1, parts.count > 1 ? String(parts[1]) : "failed")
      case "applied":
        self = .applied
      default:
        return nil
      }
    }
  }

  /// The apply as a whole: the changes made, the failure, and whether it reached the end.
  public struct Report: Sendable {
    public var done: Set<Int> = []
    public var failure: (index: Int, message: String)?
    public var finished = false

    public init(_ events: [Event]) {
      for e in events {
        switch e {
        case .done(let i): done.insert(i)
        case .failed(let i, let message): failure = (i, message)
        case .applied: finished = true
        }
      }
    }
  }

  public static func report(_ output: [UInt8]) -> Report { Report(Event.events(in: output)) }
}
