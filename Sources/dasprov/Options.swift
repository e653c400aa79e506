import ArgumentParser
import DasprovCore
import DasprovEngine
import Foundation

/// Where the project is and which playbook to run.
struct ProjectOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("The project directory (with Playbooks/ and Modules/).", valueName: "dir"))
  var project: String?

  var root: String { project ?? FileManager.default.currentDirectoryPath }
}

/// Flags every host-touching command shares.
struct RunFlags: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("Only these hosts: an Ansible pattern such as 'analyzers', 'host1:host2', 'das:!host3'.", valueName: "pattern"))
  var limit: String?

  @Option(name: .long, help: ArgumentHelp("Only tasks with one of these tags (comma-separated); a module's name is a tag of its tasks.", valueName: "tags"))
  var tags: String?

  @Option(name: .customLong("skip-tags"), help: ArgumentHelp("Skip tasks with any of these tags.", valueName: "tags"))
  var skipTags: String?

  @Option(name: [.short, .long], help: "How many hosts to work on at once.")
  var forks: Int = 64

  @Flag(name: .short, help: "More output: -v lists every task and change, -vv skipped tasks too, -vvv the remote scripts.")
  var verbose: Int

  @Flag(help: "Show what changes inside files: unified diffs for text, element-level changes for XML. Secrets are masked.")
  var diff = false

  @Flag(help: "Print one JSON document (schema dasprov.run/1, see docs/json.md) instead of text.")
  var json = false

  @Flag(name: .customLong("no-color"), help: "No colours (also when NO_COLOR is set or output is not a terminal).")
  var noColor = false

  @Option(name: .customLong("max-fail"), help: "Failed restarts tolerated before the roll halts.")
  var maxFail: Int = 0

  @Flag(name: .customLong("skip-preflight"), help: "Restart without the pre-flight checks (e.g. that every node reaches the database). For the brave.")
  var skipPreflight = false

  @Option(name: .customLong("known-hosts"), help: ArgumentHelp("known_hosts file to check host keys against (default: the inventory's dasprov_known_hosts, else ~/.ssh/known_hosts).", valueName: "file"))
  var knownHosts: String?

  @Option(name: .customLong("host-key-checking"), help: "strict (default), accept-new, or off.")
  var hostKeyChecking: String?

  func validate() throws {
    guard forks >= 1 else { throw ValidationError("--forks must be at least 1") }
    guard maxFail >= 0 else { throw ValidationError("--max-fail cannot be negative") }
    if let h = hostKeyChecking, !["strict", "accept-new", "off"].contains(h) {
      throw ValidationError("--host-key-checking must be strict, accept-new or off")
    }
  }

  var color: Bool {
    !noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isatty(STDOUT_FILENO) == 1 && !json
  }

  var selection: TagSelection {
    TagSelection(only: Self.list(tags), skip: Self.list(skipTags))
  }

  static func list(_ s: String?) -> Set<String> {
    Set((s ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
  }
}
