import ArgumentParser
import Foundation

/// `dasprov sandbox up|down|status|ssh|reset|inventory` runs `sandbox/sandbox.sh` of the project.
///
/// The sandbox starts real sshd processes in mount namespaces; that is shell work (unshare,
/// mount, sshd), so it lives in a script. This command replaces itself with the script (exec):
/// the CLI then waits on nothing the script leaves running (sshd, MariaDB), the script's exit
/// status is the command's, and `sandbox ssh` keeps the terminal.
struct SandboxCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sandbox",
    abstract: "A cluster of real SSH hosts on this machine for trying dasprov (needs root).",
    discussion: """
      up [--hosts N]   start N sshd hosts (default 8) on 127.0.0.11… with a stock DAS home each,
                       and write the inventory for the addresses it bound (STATE/inventory.ini)
      down             stop every process the sandbox started
      status           list hosts and whether each is up
      ssh I [cmd]      a shell on host I with plain OpenSSH
      reset            re-seed every host's DAS home, keeping sshd running
      inventory        print the inventory of the default addresses
      See docs/sandbox.md.
      """)

  @OptionGroup var project: ProjectOptions

  @Argument(parsing: .captureForPassthrough, help: "up | down | status | ssh I | reset | inventory, and their options.")
  var arguments: [String] = []

  func run() throws {
    let script = (project.root as NSString).appendingPathComponent("sandbox/sandbox.sh")
    guard FileManager.default.fileExists(atPath: script) else {
      throw ValidationError("no sandbox/sandbox.sh in \(project.root): run from the dasprov project directory or pass --project")
    }
    let argv = ["/bin/bash", script] + arguments
    fflush(nil)  // every C stream: what was printed before must not be lost by exec
    var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    execv("/bin/bash", &cArguments)
    // Only reached when exec failed.
    let reason = String(cString: strerror(errno))
    cArguments.forEach { free($0) }
    throw ValidationError("cannot run /bin/bash \(script): \(reason)")
  }
}
