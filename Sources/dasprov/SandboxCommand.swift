import ArgumentParser
import Foundation

/// `dasprov sandbox up|down|status|ssh|reset` runs `sandbox/sandbox.sh` of the project.
///
/// The sandbox starts real sshd processes in mount namespaces; that is shell work (unshare,
/// mount, sshd), so it lives in a script, and this command only finds and runs it.
struct SandboxCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sandbox",
    abstract: "A cluster of real SSH hosts on this machine for trying dasprov (needs root).",
    discussion: """
      up [--hosts N]   start N sshd hosts (default 8) on 127.0.0.11… with a stock DAS home each
      down             stop every process the sandbox started
      status           list hosts and whether each is up
      ssh I [cmd]      a shell on host I with plain OpenSSH
      reset            re-seed every host's DAS home, keeping sshd running
      See docs/sandbox.md.
      """)

  @OptionGroup var project: ProjectOptions

  @Argument(parsing: .captureForPassthrough, help: "up | down | status | ssh I | reset, and their options.")
  var arguments: [String] = []

  func run() throws {
    let script = (project.root as NSString).appendingPathComponent("sandbox/sandbox.sh")
    guard FileManager.default.fileExists(atPath: script) else {
      throw ValidationError("no sandbox/sandbox.sh in \(project.root): run from the dasprov project directory or pass --project")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [script] + arguments
    try process.run()
    process.waitUntilExit()
    if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus) }
  }
}
