import DasprovCore
import DasprovInventory
import Foundation

/// An inventory and a project loaded together: the starting point of every command.
public struct Workspace: Sendable {
  public let inventory: Inventory
  public let project: Project?
  public let world: World
  /// The hosts this run touches, after `--limit`.
  public let targets: [HostSpec]
  public let warnings: [Diagnostic]
  /// The run's secrets and source texts: everything that prints goes through it.
  public let reporting: Reporting

  /// Reads the inventory (and, when `root` is given, the project), applying `limit`; vaulted
  /// variables are decrypted with `vault`. The hosts' variables are templated as Ansible
  /// templates them (`Inventory.templatedHostVars`), unless `templated` is false: `inventory`
  /// shows them as written, as ansible-inventory does. Files read and secrets found are
  /// registered with `reporting`.
  public static func load(
    inventory path: String, root: String?, playbook: String?, limit: String?, vault: VaultSecrets = VaultSecrets(),
    templated: Bool = true, reporting: Reporting
  ) throws(DiagnosticList) -> Workspace {
    let (inventory, warnings) = try InventoryLoader.load(path: path, vault: vault, reporting: reporting)
    let rendered = templated ? try inventory.templatedHostVars(secrets: reporting.secrets) : [:]
    var project: Project?
    if let root { project = try ProjectLoader.load(root: root, playbook: playbook, sources: reporting.sources) }
    let hosts = inventory.hosts.map { HostSpec(inventoryHost: $0, vars: rendered[$0.name]) }
    // Every variable named like a secret, as each host sees it, is masked wherever the run prints.
    for host in hosts {
      for (name, value) in host.vars where HostVariables.isSecretName(name) { reporting.secrets.add(value.description) }
    }
    var members: [String: [String]] = [:]
    for host in hosts {
      for g in host.groups + ["all"] { members[g, default: []].append(host.name) }
    }
    for name in inventory.groups.keys where members[name] == nil { members[name] = [] }
    let selector: @Sendable (String) throws -> [String] = { pattern in
      try inventory.hosts(matching: pattern).map(\.name)
    }
    let world = World(
      hosts: hosts, groupMembers: members, project: project ?? Project.empty(root: root ?? "."), selectHosts: selector)
    let directory = (path as NSString).deletingLastPathComponent
    world.inventoryDirectory = URL(fileURLWithPath: directory.isEmpty ? "." : directory).standardizedFileURL.path
    var targets = hosts
    var notes = warnings
    if let limit {
      do {
        let match = try inventory.match(limit)
        let names = Set(match.hosts.map(\.name))
        targets = hosts.filter { names.contains($0.name) }
        // Ansible ignores a term that matches nothing; a typo there should not pass silently.
        for (term, suggestion) in match.unmatched {
          notes.append(.warning("--limit term '\(term)' matches no host or group\(suggestion.map { " (did you mean '\($0)'?)" } ?? "")"))
        }
      } catch {
        throw DiagnosticList([.error("--limit '\(limit)': \(error)")])
      }
      if targets.isEmpty { throw DiagnosticList(notes.filter { $0.severity == .warning } + [.error("--limit '\(limit)' matches no host of \(path)")]) }
    }
    return Workspace(inventory: inventory, project: project, world: world, targets: targets, warnings: notes, reporting: reporting)
  }

  /// Hosts of each play (after `--limit`), by play name.
  public func hostsByPlay() -> [String: [HostSpec]] {
    var out: [String: [HostSpec]] = [:]
    for play in project?.plays ?? [] {
      let members = (try? Runner.hosts(of: play, in: world)) ?? []
      let names = Set(targets.map(\.name))
      out[play.name] = members.filter { names.contains($0.name) }
    }
    return out
  }

  /// Every check that needs no host: the playbooks against the inventory, and the cluster's shape.
  public func validate(selection: TagSelection = TagSelection()) -> [Diagnostic] {
    var out = warnings
    if let project {
      for play in project.plays {
        do throws(Diagnostic) { _ = try Runner.hosts(of: play, in: world) } catch { out.append(error) }
      }
      let byPlay = hostsByPlay()
      var validator = Validator(project: project, world: world, hostsByPlay: byPlay, selection: selection)
      // A port offset out of range is the topology's to report, at its inventory line: the
      // handlers' port expressions would only say the same again.
      if ClusterTopology.applies(to: world) {
        validator.portsReported = ClusterTopology(world: world, restartOrder: []).hostsWithPortsOutOfRange
      }
      out += validator.validate()
      out += CarbonExpansion(project: project, world: world, inventory: inventory, hostsByPlay: byPlay, selection: selection).diagnostics()
    }
    if ClusterTopology.applies(to: world) {
      out += ClusterTopology(world: world, restartOrder: restartOrderNames()).validate(world: world)
    }
    return out
  }

  public func restartOrderNames() -> [String] {
    guard let project else { return [] }
    let runner = Runner(project: project, world: world, targets: targets, options: RunOptions(mode: .plan), connector: NoConnector(), output: Output(masker: reporting.secrets))
    // Only plays that can restart something have a place in the restart order.
    return runner.restartOrder().filter { !project.handlers(of: $0).isEmpty }.map(\.name)
  }
}

/// For objects that need a connector but never connect (topology, validation).
struct NoConnector: Connector {
  func connect(_ host: HostSpec) throws(ConnectError) -> HostConnection {
    throw ConnectError(.configuration, "not connecting during validation")
  }
}

extension HostSpec {
  /// The engine's host: `vars` are the templated variables, or the inventory's as written.
  init(inventoryHost h: InventoryHost, vars: [String: Value]? = nil) {
    self.init(name: h.name, vars: vars ?? h.vars, groups: h.groups, location: h.location, varOrigins: h.varOrigins)
  }
}

extension Project {
  static func empty(root: String) -> Project {
    Project(root: root, playbook: "")
  }
}
