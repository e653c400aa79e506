import ArgumentParser
import DasprovCore
import Testing

@testable import dasprov

/// Swift Testing has an `ExitStatus` of its own.
typealias ExitStatus = dasprov.ExitStatus

/// Every error reaches the user through ErrorReport, with the exit codes the README promises.
@Suite struct ExitStatusTests {
  /// What `dasprov ARGS` would exit with if parsing is all that happens.
  func parseStatus(_ arguments: [String]) -> ExitStatus {
    do {
      _ = try Dasprov.parseAsRoot(arguments)
      return .success
    } catch {
      return ErrorReport.status(for: error)
    }
  }

  @Test func usageErrorsExitOne() {
    #expect(parseStatus(["--bogus"]) == .invalidInput, "unknown option")
    #expect(parseStatus(["apply"]) == .invalidInput, "missing argument")
    #expect(parseStatus(["apply", "inv.ini", "--forks", "0"]) == .invalidInput, "a validate() failure")
    #expect(parseStatus(["apply", "inv.ini", "--forks", "many"]) == .invalidInput, "a value of the wrong type")
    #expect(parseStatus(["nosuchcommand"]) == .invalidInput, "unknown subcommand")
    #expect(parseStatus(["inventory", "inv.ini"]) == .invalidInput, "none of --list, --graph, --host")
  }

  @Test func helpAndVersionExitZero() {
    #expect(parseStatus(["--help"]) == .success)
    #expect(parseStatus(["apply", "--help"]) == .success)
    #expect(parseStatus(["--version"]) == .success)
  }

  @Test func helpGoesToStandardOutputAndUsageErrorsToStandardError() {
    let reporting = Reporting()
    let (help, helpToStdout) = ErrorReport.message(for: CleanExit.helpRequest(Dasprov.self), reporting: reporting, color: false)
    #expect(helpToStdout)
    #expect(help.contains("Exit codes:"))
    do {
      _ = try Dasprov.parseAsRoot(["plan", "inv.ini", "--nope"])
      Issue.record("an unknown option parsed")
    } catch {
      let (text, toStdout) = ErrorReport.message(for: error, reporting: reporting, color: false)
      #expect(!toStdout)
      #expect(text.contains("--nope"))
    }
  }

  @Test func commandOutcomesKeepTheirCodes() {
    #expect(ErrorReport.status(for: CommandExit(.success)) == .success)
    #expect(ErrorReport.status(for: CommandExit(.invalidInput)) == .invalidInput)
    #expect(ErrorReport.status(for: CommandExit(.changesPending)) == .changesPending)
    #expect(ErrorReport.status(for: CommandExit(.hostFailed)) == .hostFailed)
    #expect(ExitStatus.allCases.map(\.rawValue) == [0, 1, 2, 3])
  }

  @Test func diagnosticsAreInvalidInputAndRenderedMasked() {
    let reporting = Reporting()
    reporting.secrets.add("Hunter-22")
    let list = DiagnosticList([.error("password Hunter-22 is not allowed here")])
    #expect(ErrorReport.status(for: list) == .invalidInput)
    #expect(ErrorReport.status(for: Diagnostic.error("x")) == .invalidInput)
    let (text, toStdout) = ErrorReport.message(for: list, reporting: reporting, color: false)
    #expect(!toStdout)
    #expect(text.contains("error: password ******** is not allowed here"), "\(text)")
    #expect(!text.contains("Hunter-22"))
  }

  @Test func commandExitsPrintNothingMore() {
    let (text, _) = ErrorReport.message(for: CommandExit(.hostFailed), reporting: Reporting(), color: false)
    #expect(text.isEmpty)
  }
}
