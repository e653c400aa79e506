import DasprovCore
import Foundation

/// Templates inventory variables the way Ansible does when a play reads them: lazily, each
/// variable once per host, reading other variables (templated in turn), magic variables and
/// other hosts' variables through `hostvars`.
///
/// As in Ansible, `hostvars[h].x` is templated in `h`'s context, where `hostvars` itself is
/// undefined (Ansible's HostVarsVars gives a host's variables without it); so one variable can
/// have two results, and both are kept apart.
final class VariableResolver {
  struct Key: Hashable {
    var host: String
    var name: String
    /// Whether `hostvars` is defined: true for a host's own variables, false through `hostvars`.
    var withHostvars: Bool
  }

  let inventory: Inventory
  /// Ansible's `groups`: every group's hosts, by name; built when a template first reads it.
  private(set) lazy var groups: Value = {
    var groups: [String: Value] = [:]
    for name in inventory.groups.keys {
      groups[name] = .list(inventory.hostNames(inGroup: name).map(Value.string))
    }
    return .map(groups)
  }()
  private let inventoryFile: String
  private var memo: [Key: Result<(Value, Taint), TemplateError>] = [:]
  private var stack: [Key] = []
  private var onStack: Set<Key> = []
  private var parsed: [String: Result<[TemplateNode], TemplateError>] = [:]
  private var contexts: [Key: HostContext] = [:]

  /// Deeper chains of variables than this are refused rather than risk the stack.
  static let maxDepth = 200

  init(_ inventory: Inventory) {
    self.inventory = inventory
    let file = URL(fileURLWithPath: inventory.sourceFile).standardizedFileURL.path
    self.inventoryFile = file
  }

  var inventoryDirectory: String { (inventoryFile as NSString).deletingLastPathComponent }

  /// The templated value of a variable the host has, and which parts of it are secret.
  func resolve(_ key: Key) throws(TemplateError) -> (Value, Taint) {
    if let known = memo[key] { return try known.get() }
    if onStack.contains(key) { throw loopError(closing: key) }
    guard stack.count < Self.maxDepth else {
      throw TemplateError(.invalid, "variables refer to each other more than \(Self.maxDepth) deep")
    }
    stack.append(key)
    onStack.insert(key)
    defer {
      stack.removeLast()
      onStack.remove(key)
    }
    let host = inventory.host(named: key.host)!
    let result: Result<(Value, Taint), TemplateError>
    do throws(TemplateError) {
      result = .success(try template(host.vars[key.name]!, of: host, key))
    } catch {
      var stamped = error
      if stamped.origin == nil && stamped.variable == nil {
        stamped.origin = host.varOrigins[key.name]
        stamped.variable = key.name
        stamped.host = key.host
        stamped.throughHostvars = !key.withHostvars
      }
      result = .failure(stamped)
    }
    memo[key] = result
    return try result.get()
  }

  private func template(_ raw: Value, of host: InventoryHost, _ key: Key) throws(TemplateError) -> (Value, Taint) {
    let unsafe = Set(host.valueTags[key.name, default: []].filter { $0.tag == .unsafe }.map(\.path))
    var taint = Taint.clean
    if Self.isSecretName(key.name) || host.varOrigins[key.name].map({ inventory.encryptedVarsFiles.contains($0.file) }) == true {
      taint = .whole
    }
    for leaf in host.valueTags[key.name, default: []] {
      if case .vaulted = leaf.tag { taint = taint.union(Taint(paths: [leaf.path])) }
    }
    let context = self.context(for: key)
    func walk(_ v: Value, _ path: [TaggedLeaf.Step]) throws(TemplateError) -> (Value, Taint) {
      switch v {
      case .string(let s):
        guard !unsafe.contains(path), TemplateLexer.isPossiblyTemplate(s) else { return (v, .clean) }
        var evaluator = TemplateEvaluator(context: context)
        let (value, t) = try evaluator.render(try parse(s))
        return (value, Taint(paths: Set(t.paths.map { path + $0 })))
      case .list(let items):
        var out: [Value] = []
        var t = Taint.clean
        for (n, item) in items.enumerated() {
          let (x, xt) = try walk(item, path + [.index(n)])
          out.append(x)
          t = t.union(xt)
        }
        return (.list(out), t)
      case .map(let m):
        var out: [String: Value] = [:]
        var t = Taint.clean
        for (k, item) in m {
          let (x, xt) = try walk(item, path + [.key(k)])
          out[k] = x
          t = t.union(xt)
        }
        return (.map(out), t)
      default:
        return (v, .clean)
      }
    }
    let (value, rendered) = try walk(raw, [])
    return (value, taint.union(rendered))
  }

  /// Parsed once per distinct text: group variables repeat across every host of the group.
  private func parse(_ text: String) throws(TemplateError) -> [TemplateNode] {
    if let known = parsed[text] { return try known.get() }
    let result: Result<[TemplateNode], TemplateError>
    do throws(TemplateError) {
      result = .success(try TemplateParser.parse(text))
    } catch {
      result = .failure(error)
    }
    parsed[text] = result
    return try result.get()
  }

  private func loopError(closing key: Key) -> TemplateError {
    let start = stack.firstIndex(of: key)!
    let cycle = Array(stack[start...]) + [key]
    var message = DiagnosticMessage(stringLiteral: "variables refer to each other in a loop: ")
    let hosts = Set(cycle.map(\.host))
    for (n, k) in cycle.enumerated() {
      let where_ = n < cycle.count - 1 ? inventory.host(named: k.host)?.varOrigins[k.name].map { " (\($0))" } ?? "" : ""
      let of: DiagnosticMessage = hosts.count > 1 ? " of host \(name: k.host)" : ""
      message = "\(message)\(n > 0 ? " → " : "")\(name: k.name)\(of)\(where_)"
    }
    var error = TemplateError(.loop, message)
    error.origin = inventory.host(named: key.host)?.varOrigins[key.name]
    error.variable = key.name
    error.host = key.host
    error.throughHostvars = !key.withHostvars
    return error
  }

  func context(for key: Key) -> HostContext {
    let k = Key(host: key.host, name: "", withHostvars: key.withHostvars)
    if let known = contexts[k] { return known }
    let made = HostContext(resolver: self, host: inventory.host(named: key.host)!, withHostvars: key.withHostvars)
    contexts[k] = made
    return made
  }

  /// Ansible's magic variables for `host`, except `hostvars`.
  func magic(_ name: String, of host: InventoryHost) -> Value? {
    switch name {
    case "inventory_hostname": return .string(host.name)
    case "inventory_hostname_short": return .string(String(host.name.prefix { $0 != "." }))
    case "group_names": return .list(host.groups.map(Value.string))
    case "groups": return groups
    case "inventory_file": return .string(inventoryFile)
    case "inventory_dir": return .string(inventoryDirectory)
    default: return nil
    }
  }

  static let magicNames = ["inventory_hostname", "inventory_hostname_short", "group_names", "groups", "inventory_file", "inventory_dir"]

  /// The contract: a variable whose name contains `password` or `secret` is a secret.
  static func isSecretName(_ name: String) -> Bool {
    let lowered = name.lowercased()
    return lowered.contains("password") || lowered.contains("secret")
  }
}

/// One host's view, with or without `hostvars`: what its templates read.
final class HostContext: TemplateContext {
  unowned let resolver: VariableResolver
  let host: InventoryHost
  let withHostvars: Bool

  init(resolver: VariableResolver, host: InventoryHost, withHostvars: Bool) {
    self.resolver = resolver
    self.host = host
    self.withHostvars = withHostvars
  }

  func lookup(_ name: String) throws(TemplateError) -> TemplateValue {
    if name == "hostvars" {
      guard withHostvars else {
        return .undefined("\(name: "hostvars") is undefined here: as in Ansible, a variable read through hostvars[...] cannot use hostvars itself")
      }
      return .hostvars
    }
    if let magic = resolver.magic(name, of: host) { return .plain(magic) }
    guard host.vars[name] != nil else { return .undefined("\(name: name) is undefined") }
    let (v, t) = try resolver.resolve(.init(host: host.name, name: name, withHostvars: withHostvars))
    return .value(v, t)
  }

  func hasHost(_ name: String) -> Bool { resolver.inventory.host(named: name) != nil }

  func hostVariable(_ host: String, _ name: String) throws(TemplateError) -> TemplateValue {
    let other = resolver.context(for: .init(host: host, name: "", withHostvars: false))
    guard other.host.vars[name] != nil || resolver.magic(name, of: other.host) != nil else {
      return .undefined("hostvars[\(name: host)] has no variable \(name: name)")
    }
    return try other.lookup(name)
  }

  func hostObject(_ host: String) throws(TemplateError) -> (Value, Taint) {
    let other = resolver.context(for: .init(host: host, name: "", withHostvars: false))
    var out: [String: Value] = [:]
    var taint = Taint.clean
    for name in Array(other.host.vars.keys) + VariableResolver.magicNames {
      guard case .value(let v, let t) = try other.lookup(name) else { continue }
      out[name] = v
      taint = taint.union(t.under(.key(name)))
    }
    return (.map(out), taint)
  }

  var hostNames: [String] { resolver.inventory.hosts.map(\.name) }
}
