import ArgumentParser
import DasprovCore
import DasprovEngine
import Foundation

/// `dasprov`: provisions WSO2 DAS clusters over SSH from an Ansible-style inventory.
@main
struct Dasprov: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dasprov",
    abstract: "Provision WSO2 DAS 3.1.0 clusters over SSH: plan, apply, restart in role order.",
    discussion: """
      dasprov reads an Ansible INI inventory and the playbooks in Playbooks/ (the site playbook fixes the play order), connects to every host with one SSH session, gathers all facts in one round trip, plans every change on this machine, applies them atomically, and restarts the nodes whose configuration changed, role by role, one at a time, behind health gates.

      Exit codes:
        0  success (for plan: nothing would change)
        1  an error found before any host was touched (usage, parse, validation)
        2  plan found changes to make
        3  a host failed, was unreachable, or a rolling restart halted
      """,
    version: DasprovVersion.string,
    subcommands: [
      ApplyCommand.self, PlanCommand.self, ValidateCommand.self, InventoryCommand.self, FactsCommand.self,
      TopologyCommand.self, RollbackCommand.self, SandboxCommand.self,
    ])

  /// Parses, runs, and maps whatever is thrown to the documented exit codes (ErrorReport).
  /// The run's `Reporting` is made here, so the error report masks what the command met.
  static func main(_ arguments: [String]?) -> Never {
    let status: ExitStatus
    let reporting = Reporting()
    do {
      var command = try parseAsRoot(arguments)
      if let reportingCommand = command as? any ReportingCommand {
        try reportingCommand.run(reporting: reporting)
      } else {
        try command.run()
      }
      status = .success
    } catch {
      let color = ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isatty(STDERR_FILENO) == 1
      status = ErrorReport.report(error, reporting: reporting, color: color)
    }
    Foundation.exit(status.rawValue)
  }

  static func main() { main(nil) }
}

/// A command that reads inventories or projects: it registers the files it reads and the secrets
/// it meets with the run's `Reporting`, which `main` then uses to report its errors.
protocol ReportingCommand: ParsableCommand {
  func run(reporting: Reporting) throws
}

extension ReportingCommand {
  /// ArgumentParser's entry point; `Dasprov.main` calls `run(reporting:)` itself.
  func run() throws { try run(reporting: Reporting()) }
}
