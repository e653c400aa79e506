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
  static func main(_ arguments: [String]?) -> Never {
    let status: ExitStatus
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      status = .success
    } catch {
      let color = ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isatty(STDERR_FILENO) == 1
      status = ErrorReport.report(error, masker: SecretMasker.shared, color: color)
    }
    Foundation.exit(status.rawValue)
  }

  static func main() { main(nil) }
}
