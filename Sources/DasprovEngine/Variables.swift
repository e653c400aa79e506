import DasprovCore
import DasprovDSL
import DasprovTasks
import Foundation
import Synchronization

/// A host as the engine sees it: its inventory name, merged inventory variables and groups.
public struct HostSpec: Sendable, Hashable {
  public var name: String
  public var vars: [String: Value]
  /// Every group the host is in, ancestors included (Ansible's `group_names`).
  public var groups: [String]
  /// Where the inventory declares the host, for diagnostics about it.
  public var location: SourceRange?
  /// Where each inventory variable's winning value was set.
  public var varOrigins: [String: SourceRange]

  public init(name: String, vars: [String: Value], groups: [String], location: SourceRange? = nil, varOrigins: [String: SourceRange] = [:]) {
    self.name = name
    self.vars = vars
    self.groups = groups
    self.location = location
    self.varOrigins = varOrigins
  }
}

/// The inventory-wide view every host's expressions can read: `groups`, `hostvars`.
public final class World: @unchecked Sendable {
  // Built once before planning and only read afterwards, from any thread.
  public let hosts: [HostSpec]
  public let groupMembers: [String: [String]]
  public let project: Project
  /// Each host as a map of its inventory variables and module defaults, plus `name` and
  /// `address`: what `groups.analyzers` and `hostvars["h1"]` return.
  public private(set) var hostObjects: [String: Value] = [:]
  let functions: FunctionTable
  /// Resolves an Ansible host pattern (`analyzers`, `a:b`, `!x`) to host names.
  let selectHosts: @Sendable (String) throws -> [String]
  /// The inventory file's directory: relative local paths in variables are relative to it
  /// (Ansible's `inventory_dir`).
  public var inventoryDirectory = "."

  public init(
    hosts: [HostSpec], groupMembers: [String: [String]], project: Project,
    selectHosts: @escaping @Sendable (String) throws -> [String]
  ) {
    self.hosts = hosts
    self.groupMembers = groupMembers
    self.project = project
    self.selectHosts = selectHosts
    self.functions = FunctionTable()
    for host in hosts {
      hostObjects[host.name] = Self.object(for: host, world: self)
    }
    groupsValue = .map(groupMembers.mapValues { [hostObjects] names in .list(names.compactMap { hostObjects[$0] }) })
    hostvarsValue = .map(hostObjects)
  }

  public func host(_ name: String) -> HostSpec? { hosts.first { $0.name == name } }

  /// The default expressions a play's hosts see (playbook globals, then its modules' defaults;
  /// every module's without a play) and the names declared secret: the same for every host,
  /// so worked out once per play.
  func defaults(of play: Play?) -> (expressions: [String: Expr], secrets: Set<String>) {
    let key = play?.name ?? "\0"
    if let known = defaultsByPlay.withLock({ $0[key] }) { return known }
    var expressions: [String: Expr] = [:]
    var secrets: Set<String> = []
    let modules = play?.modules ?? Array(project.modules.values).sorted { $0.name < $1.name }
    for decl in project.globals + modules.flatMap(\.defaults) {
      if let e = decl.value, expressions[decl.name.name] == nil { expressions[decl.name.name] = e }
      if decl.secret { secrets.insert(decl.name.name) }
    }
    defaultsByPlay.withLock { $0[key] = (expressions, secrets) }
    return (expressions, secrets)
  }

  private let defaultsByPlay = Mutex<[String: (expressions: [String: Expr], secrets: Set<String>)]>([:])

  /// A host's planner with its task instances and fact needs, worked out once: `validate` and
  /// then the run evaluate the same expressions for every host.
  func preparation(
    of host: HostSpec, plays: [Play], selection: TagSelection, wantDiff: Bool = false
  ) -> Result<HostPreparation, DiagnosticList> {
    let key = PreparationKey(host: host.name, plays: plays.map(\.name), selection: selection, wantDiff: wantDiff)
    if let known = preparations.withLock({ $0[key] }) { return known }
    let planner = HostPlanner(host: host, plays: plays, world: self, selection: selection, wantDiff: wantDiff)
    let result: Result<HostPreparation, DiagnosticList>
    do throws(DiagnosticList) {
      let instances = try planner.instances()
      result = .success(HostPreparation(planner: planner, instances: instances, needs: try planner.factNeeds(instances)))
    } catch {
      result = .failure(error)
    }
    preparations.withLock { $0[key] = result }
    return result
  }

  private struct PreparationKey: Hashable {
    var host: String
    var plays: [String]
    var selection: TagSelection
    var wantDiff: Bool
  }

  private let preparations = Mutex<[PreparationKey: Result<HostPreparation, DiagnosticList>]>([:])

  /// `groups` as expressions see it: every group name → its hosts' objects, in inventory order.
  /// Built once: every host's variables include it.
  public private(set) var groupsValue: Value = .map([:])
  /// `hostvars`: every host's object by name.
  public private(set) var hostvarsValue: Value = .map([:])

  /// A host's own variables as other hosts see them: inventory variables and every default
  /// that does not depend on facts or on other hosts.
  private static func object(for host: HostSpec, world: World) -> Value {
    let scopes = HostVariables(host: host, play: nil, world: world, includeWorld: false)
    var out = host.vars
    for name in scopes.defaults.names where out[name] == nil {
      if let v = try? scopes.root.lookup(name) { out[name] = v }
    }
    out["name"] = .string(host.name)
    out["inventory_hostname"] = .string(host.name)
    out["group_names"] = .list(host.groups.map { .string($0) })
    out["address"] = out["das_address"] ?? out["ansible_host"] ?? .string(host.name)
    return .map(out)
  }
}

/// Answers fact lookups before facts are gathered by saying "not yet", so the engine can tell
/// which decisions must wait for the host's fact round trip.
final class FactGate: VariableScope {
  func lookup(_ name: String) throws(Diagnostic) -> Value? {
    if HostFacts.variableNames.contains(name) {
      throw Diagnostic.error("'\(name)' is a host fact, not known before the host is contacted", code: .needsHostFacts)
    }
    return nil
  }

  var names: Set<String> { HostFacts.variableNames }

  static func isNeedsFacts(_ d: Diagnostic) -> Bool { d.code == .needsHostFacts }
}

/// The variables one host sees in one play, layered by precedence (first wins):
/// loop variable, facts, play vars, inventory, magic variables, module defaults and playbook
/// globals.
public final class HostVariables {
  public let host: HostSpec
  let facts: VariableScope
  let playVars: LazyScope
  let inventory: ValueScope
  let magic: ValueScope
  let defaults: LazyScope
  /// Declared secret by a module (`secret var`) or by name (contains "password" or "secret").
  /// Worked out when first asked for: planning never needs it.
  public private(set) lazy var secretNames: Set<String> = {
    let allNames = root.names.union(host.vars.keys)
    return declaredSecrets.union(allNames.filter(Self.isSecretName))
  }()
  private let declaredSecrets: Set<String>
  /// The whole chain; defaults and play vars evaluate against it.
  public let root: ChainScope
  public let functions: FunctionTable

  public init(host: HostSpec, play: Play?, world: World, facts: HostFacts? = nil, includeWorld: Bool = true) {
    self.host = host
    self.functions = world.functions
    self.facts = facts.map { ValueScope($0.variables) } ?? FactGate()
    var playExprs: [String: Expr] = [:]
    for v in play?.decl.vars ?? [] { if let e = v.value { playExprs[v.name.name] = e } }
    self.playVars = LazyScope(playExprs, functions: world.functions)
    self.inventory = ValueScope(host.vars)
    var magic: [String: Value] = [
      "inventory_hostname": .string(host.name),
      "group_names": .list(host.groups.map { .string($0) }),
      "inventory_dir": .string(world.inventoryDirectory),
    ]
    if includeWorld {
      magic["groups"] = world.groupsValue
      magic["hostvars"] = world.hostvarsValue
      magic["host"] = world.hostObjects[host.name] ?? .map([:])
    }
    self.magic = ValueScope(magic)
    let declared = world.defaults(of: play)
    self.defaults = LazyScope(declared.expressions, functions: world.functions)
    self.declaredSecrets = declared.secrets
    self.root = ChainScope([self.facts, playVars, inventory, self.magic, defaults])
    playVars.resolver = root
    defaults.resolver = root
  }

  /// Contract: any variable whose name contains `password` or `secret` is secret.
  public static func isSecretName(_ name: String) -> Bool {
    // Byte-wise and ASCII-case-insensitive: it runs for every variable name of every host.
    let bytes = Array(name.utf8)
    return containsASCIICaseInsensitive(bytes, Array("password".utf8)) || containsASCIICaseInsensitive(bytes, Array("secret".utf8))
  }

  private static func containsASCIICaseInsensitive(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard haystack.count >= needle.count else { return false }
    outer: for start in 0...(haystack.count - needle.count) {
      for (i, n) in needle.enumerated() {
        var b = haystack[start + i]
        if b >= 65 && b <= 90 { b += 32 }
        if b != n { continue outer }
      }
      return true
    }
    return false
  }

  /// The scope a task evaluates in, with its loop variable if any.
  public func scope(loop: (String, Value)? = nil) -> VariableScope {
    guard let (name, value) = loop else { return root }
    return ChainScope([ValueScope([name: value]), root])
  }

  /// Every secret value this host's variables hold, for masking.
  public func secretValues() -> [String] {
    var out: [String] = []
    for name in secretNames {
      if let v = try? root.lookup(name) { collectStrings(v, into: &out) }
    }
    return out
  }

  private func collectStrings(_ v: Value, into out: inout [String]) {
    switch v {
    case .string(let s): out.append(s)
    case .int, .double: out.append(v.description)
    case .list(let l): for i in l { collectStrings(i, into: &out) }
    case .map(let m): for i in m.values { collectStrings(i, into: &out) }
    default: break
    }
  }
}
