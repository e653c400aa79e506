import ArgumentParser
import DasprovCore
import Foundation

/// How a dasprov command ends: the exit codes the README and `--help` promise.
enum ExitStatus: Int32, Sendable, CaseIterable {
  /// Success; for `plan`, nothing would change.
  case success = 0
  /// An error found before any host was touched: usage, parse, validation.
  case invalidInput = 1
  /// `plan` found changes to make.
  case changesPending = 2
  /// A host failed, was unreachable, or a rolling restart halted.
  case hostFailed = 3
}

/// Thrown by a command that has already said what went wrong and only has to end with `status`.
struct CommandExit: Error, Sendable {
  var status: ExitStatus
  init(_ status: ExitStatus) { self.status = status }
}

/// The one place where errors become what the user reads and the exit code they see.
///
/// Commands throw; nothing else calls `exit`. ArgumentParser's own errors (unknown option,
/// missing argument, a `validate()` failure) would exit 64 by default; the contract says 1.
enum ErrorReport {
  /// The documented exit status for an error a command (or the argument parser) threw.
  static func status(for error: any Error) -> ExitStatus {
    switch error {
    case let exit as CommandExit: return exit.status
    case let list as DiagnosticList: return list.hasErrors ? .invalidInput : .success
    case is Diagnostic: return .invalidInput
    default:
      // Help and --version are clean exits; every other parser error is a usage error.
      return Dasprov.exitCode(for: error) == .success ? .success : .invalidInput
    }
  }

  /// What to print for `error`, and whether it belongs on stdout (help, version) or stderr.
  /// Diagnostics quote the run's files and mask its secrets where they stand as values (never
  /// in names); any other message is masked whole.
  static func message(for error: any Error, reporting: Reporting, color: Bool) -> (text: String, toStandardOutput: Bool) {
    switch error {
    case is CommandExit:
      return ("", false)
    case let list as DiagnosticList:
      return (reporting.renderer(color: color).render(list.diagnostics), false)
    case let diagnostic as Diagnostic:
      return (reporting.renderer(color: color).render([diagnostic]), false)
    default:
      let text = Dasprov.fullMessage(for: error)
      return (reporting.secrets.mask(text), status(for: error) == .success)
    }
  }

  /// Prints `error` where it belongs and returns the exit status.
  static func report(_ error: any Error, reporting: Reporting, color: Bool) -> ExitStatus {
    let (text, toStandardOutput) = message(for: error, reporting: reporting, color: color)
    if !text.isEmpty {
      let line = text.hasSuffix("\n") ? text : text + "\n"
      (toStandardOutput ? FileHandle.standardOutput : FileHandle.standardError).write(Data(line.utf8))
    }
    return status(for: error)
  }
}
