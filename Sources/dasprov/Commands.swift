import ArgumentParser
import DasprovCore
import DasprovEngine
import Foundation

/// Prints diagnostics (masked) and turns errors into exit code 1.
enum Diagnostics {
  static func print(_ ds: [Diagnostic], color: Bool, reporting: Reporting) {
    guard !ds.isEmpty else { return }
    // The renderer masks secrets where they stand as values, never in the names of groups or hosts.
    let text = reporting.renderer(color: color).render(ds)
    FileHandle.standardError.write(Data(text.utf8))
  }

  /// Prints and exits 1 when any diagnostic is an error.
  static func check(_ ds: [Diagnostic], color: Bool, reporting: Reporting) throws {
    print(ds, color: color, reporting: reporting)
    if ds.contains(where: { $0.severity == .error }) {
      let n = ds.filter { $0.severity == .error }.count
      FileHandle.standardError.write(Data("dasprov: \(n) error\(n == 1 ? "" : "s"); no host was touched\n".utf8))
      throw CommandExit(.invalidInput)
    }
  }

  static func load(
    inventory: String, root: String?, playbook: String?, limit: String?, vault: VaultOptions, color: Bool, templated: Bool = true,
    reporting: Reporting
  ) throws -> Workspace {
    do throws(DiagnosticList) {
      let (secrets, warnings) = try vault.secrets()
      print(warnings, color: color, reporting: reporting)
      return try Workspace.load(
        inventory: inventory, root: root, playbook: playbook, limit: limit, vault: secrets, templated: templated, reporting: reporting)
    } catch {
      try check(error.diagnostics, color: color, reporting: reporting)
      throw CommandExit(.invalidInput)
    }
  }
}

/// What `apply` and `plan` take: they differ only in the mode.
struct RunTarget: ParsableArguments {
  @Argument(help: "The Ansible INI inventory.")
  var inventory: String

  @Argument(help: "The playbook to run (default: Playbooks/site.dasp of the project).")
  var playbook: String?

  @OptionGroup var project: ProjectOptions
  @OptionGroup var flags: RunFlags
  @OptionGroup var vault: VaultOptions

  func run(_ mode: RunMode, reporting: Reporting) throws {
    try Self.execute(inventory: inventory, playbook: playbook, project: project, flags: flags, vault: vault, mode: mode, reporting: reporting)
  }

  static func execute(
    inventory: String, playbook: String?, project: ProjectOptions, flags: RunFlags, vault: VaultOptions, mode: RunMode, reporting: Reporting
  ) throws {
    let workspace = try Diagnostics.load(
      inventory: inventory, root: project.root, playbook: playbook, limit: flags.limit, vault: vault, color: flags.color, reporting: reporting)
    try Diagnostics.check(workspace.validate(selection: flags.selection), color: flags.color, reporting: reporting)
    var options = RunOptions(mode: mode)
    options.selection = flags.selection
    options.forks = flags.forks
    options.diff = flags.diff
    options.maxFail = flags.maxFail
    options.skipPreflight = flags.skipPreflight
    let output = Output(masker: reporting.secrets, color: flags.color, json: flags.json, verbosity: flags.verbose)
    let connector = SSHConnector(
      knownHostsOverride: flags.knownHosts, policyOverride: flags.hostKeyChecking,
      inventoryDirectory: (inventory as NSString).deletingLastPathComponent, masker: reporting.secrets)
    let runner = Runner(
      project: workspace.project!, world: workspace.world, targets: workspace.targets, options: options, connector: connector, output: output)
    let report = runner.run()
    if flags.json {
      output.data(Report.json(report, runID: runner.runID, diff: flags.diff))
    } else {
      output.say("")
      output.say(output.paint("RECAP", .heading))
      for line in Report.recap(report) { output.say(line) }
      if let halted = report.halted { output.say(output.paint(halted, .failed)) }
      output.say(Report.summary(report))
    }
    let code = report.exitCode
    if code != 0 { throw CommandExit(ExitStatus(rawValue: code) ?? .hostFailed) }
  }
}

struct ApplyCommand: ReportingCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Make the hosts match the playbooks, then restart changed nodes in role order.",
    discussion: """
      Checks everything before touching a host, gathers facts on every host in one round trip, applies each host's changes atomically (with backups), and restarts the nodes whose configuration changed, play by play in the restart order, 'serial' at a time, each behind a health gate. A re-run changes nothing and restarts nothing. An interrupted or halted roll resumes on the next apply.
      """)

  @OptionGroup var target: RunTarget

  func run(reporting: Reporting) throws {
    try target.run(.apply, reporting: reporting)
  }
}

struct PlanCommand: ReportingCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan",
    abstract: "Show what apply would change, changing nothing (exit 2 when something would change).",
    aliases: ["check"])

  @OptionGroup var target: RunTarget

  func run(reporting: Reporting) throws {
    try target.run(.plan, reporting: reporting)
  }
}

struct RollbackCommand: ReportingCommand {
  static let configuration = CommandConfiguration(
    commandName: "rollback",
    abstract: "Restore the files of each host's last apply from its backups, then restart in role order.")

  @Argument(help: "The Ansible INI inventory.")
  var inventory: String

  @OptionGroup var project: ProjectOptions
  @OptionGroup var flags: RunFlags
  @OptionGroup var vault: VaultOptions

  func run(reporting: Reporting) throws {
    try RunTarget.execute(inventory: inventory, playbook: nil, project: project, flags: flags, vault: vault, mode: .rollback, reporting: reporting)
  }
}

struct ValidateCommand: ReportingCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate",
    abstract: "Parse and check the inventory, playbooks, modules and templates without touching a host.")

  @Argument(help: "The Ansible INI inventory.")
  var inventory: String

  @Argument(help: "The playbook to check (default: Playbooks/site.dasp of the project).")
  var playbook: String?

  @OptionGroup var project: ProjectOptions
  @OptionGroup var vault: VaultOptions

  @Flag(name: .customLong("no-color"), help: "No colours.")
  var noColor = false

  func run(reporting: Reporting) throws {
    let color = !noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isatty(STDERR_FILENO) == 1
    let workspace = try Diagnostics.load(
      inventory: inventory, root: project.root, playbook: playbook, limit: nil, vault: vault, color: color, reporting: reporting)
    try Diagnostics.check(workspace.validate(), color: color, reporting: reporting)
    let plays = workspace.project?.plays.count ?? 0
    print("ok: \(workspace.world.hosts.count) hosts, \(plays) plays, \(workspace.project?.modules.count ?? 0) modules")
  }
}

struct InventoryCommand: ReportingCommand {
  static let configuration = CommandConfiguration(
    commandName: "inventory",
    abstract: "Show an inventory as Ansible sees it: --list (JSON), --graph (tree) or --host NAME.")

  @Argument(help: "The Ansible INI inventory.")
  var inventory: String

  @Flag(help: "All hosts, groups and merged variables as JSON, in ansible-inventory --list's shape.")
  var list = false

  @Flag(help: "The group tree, like ansible-inventory --graph.")
  var graph = false

  @Option(help: "One host's merged variables as JSON.")
  var host: String?

  @OptionGroup var vault: VaultOptions

  func validate() throws {
    let chosen = [list, graph, host != nil].filter { $0 }.count
    guard chosen == 1 else { throw ValidationError("choose exactly one of --list, --graph, --host NAME") }
  }

  func run(reporting: Reporting) throws {
    // ansible-inventory prints values as written, `{{ … }}` included: no templating here.
    let workspace = try Diagnostics.load(
      inventory: inventory, root: nil, playbook: nil, limit: nil, vault: vault, color: false, templated: false, reporting: reporting)
    Diagnostics.print(workspace.warnings, color: false, reporting: reporting)
    if list { print(workspace.inventory.ansibleListJSON()) }
    if graph { print(workspace.inventory.ansibleGraph()) }
    if let host {
      guard let json = workspace.inventory.hostVarsJSON(host) else {
        FileHandle.standardError.write(Data("error: no host '\(host)' in \(inventory)\n".utf8))
        throw CommandExit(.invalidInput)
      }
      print(json)
    }
  }
}

struct TopologyCommand: ReportingCommand {
  static let configuration = CommandConfiguration(
    commandName: "topology",
    abstract: "Show the DAS cluster the inventory describes: roles, addresses, ports, Hazelcast groups, restart order.")

  @Argument(help: "The Ansible INI inventory.")
  var inventory: String

  @Flag(help: "Graphviz output: dasprov topology INV --dot | dot -Tsvg > cluster.svg")
  var dot = false

  @OptionGroup var project: ProjectOptions
  @OptionGroup var vault: VaultOptions

  func run(reporting: Reporting) throws {
    let workspace = try Diagnostics.load(
      inventory: inventory, root: project.root, playbook: nil, limit: nil, vault: vault, color: false, reporting: reporting)
    guard ClusterTopology.applies(to: workspace.world) else {
      FileHandle.standardError.write(Data("error: \(inventory) has none of the groups receivers, indexers, analyzers, presenters\n".utf8))
      throw CommandExit(.invalidInput)
    }
    let topology = ClusterTopology(world: workspace.world, restartOrder: workspace.restartOrderNames())
    Diagnostics.print(topology.validate(world: workspace.world), color: false, reporting: reporting)
    print(dot ? topology.dot() : topology.text(), terminator: "")
  }
}

struct FactsCommand: ReportingCommand {
  static let configuration = CommandConfiguration(
    commandName: "facts",
    abstract: "Gather and print each host's facts (OS family, hostname, addresses) in one round trip per host.")

  @Argument(help: "The Ansible INI inventory.")
  var inventory: String

  @OptionGroup var flags: RunFlags
  @OptionGroup var vault: VaultOptions

  func run(reporting: Reporting) throws {
    let workspace = try Diagnostics.load(
      inventory: inventory, root: nil, playbook: nil, limit: flags.limit, vault: vault, color: flags.color, reporting: reporting)
    let output = Output(masker: reporting.secrets, color: flags.color, json: flags.json, verbosity: flags.verbose)
    let connector = SSHConnector(
      knownHostsOverride: flags.knownHosts, policyOverride: flags.hostKeyChecking,
      inventoryDirectory: (inventory as NSString).deletingLastPathComponent, masker: reporting.secrets)
    let results = FactsGatherer.gather(workspace.targets, connector: connector, forks: flags.forks)
    var failed = false
    var json: [String: Value] = [:]
    for (host, result) in zip(workspace.targets, results) {
      switch result {
      case .success(let facts):
        json[host.name] = .map(facts.variables)
        if !flags.json {
          output.say("\(host.name): \(facts.osPrettyName) (os_family=\(facts.osFamily), os_id=\(facts.osID)), hostname \(facts.hostname), user \(facts.user), addresses \(facts.addresses.joined(separator: " "))")
        }
      case .failure(let message):
        failed = true
        json[host.name] = ["error": .string(message)]
        output.say("\(host.name): UNREACHABLE: \(message)")
      }
    }
    if flags.json { output.data(Value.map(json).jsonString(sortedKeys: true, pretty: true)) }
    if failed { throw CommandExit(.hostFailed) }
  }
}
