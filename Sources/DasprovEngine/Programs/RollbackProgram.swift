import DasprovShell

/// rollback.sh: restores the files of the host's newest backup manifest and marks its handlers
/// pending again.
public struct RollbackProgram: Sendable {
  public init() {}

  public var program: ShellProgram { ShellProgram("rollback.sh") }

  public enum Event: ProgramEvent, Hashable {
    case manifest(String)
    case restored(String)
    case removed(String)
    case notify(String)
    case rolledBack
    /// No manifest: nothing was applied, or it was rolled back already.
    case nothing
    case failed(String)

    public init?(_ line: ProgramLine) {
      let rest = String(line.rest)
      switch line.tag {
      case "manifest": self = .manifest(rest)
      case "restored": self = .restored(rest)
      case "removed": self = .removed(rest)
      case "notify": self = .notify(rest)
      case "rolled-back": self = .rolledBack
      case "nothing": self = .nothing
      case "fail": self = .failed(rest)
      default: return nil
      }
    }
  }
}
