import DasprovCore

/// A loaded inventory: the hosts, groups and variables Ansible would see for the same files.
public struct Inventory: Sendable {
  /// The inventory file as it was named when loading (diagnostics use this spelling).
  public var sourceFile: String
  /// Every host, in the order Ansible enumerates the `all` group.
  public var hosts: [InventoryHost]
  /// Every group by name, including `all` and `ungrouped`.
  public var groups: [String: InventoryGroup]

  /// The group_vars/host_vars files that were vault-encrypted as a whole: every value from
  /// them is a secret, and so is every value templated from one.
  var encryptedVarsFiles: Set<String> = []

  /// Groups in creation order: Ansible matches host patterns against groups in this order.
  var groupOrder: [String]
  /// Host names in creation order, for pattern matching (Ansible walks its host dict).
  var hostCreationOrder: [String]
  private var hostIndex: [String: Int]

  /// An inventory built in code (for tests and tools). Pattern matching takes groups in name
  /// order and hosts in the given order.
  public init(sourceFile: String, hosts: [InventoryHost], groups: [String: InventoryGroup]) {
    self.init(
      sourceFile: sourceFile, hosts: hosts, groups: groups,
      groupOrder: PyFormat.sortedKeys(groups.keys), hostCreationOrder: hosts.map(\.name))
  }

  init(
    sourceFile: String, hosts: [InventoryHost], groups: [String: InventoryGroup],
    groupOrder: [String], hostCreationOrder: [String]
  ) {
    self.sourceFile = sourceFile
    self.hosts = hosts
    self.groups = groups
    self.groupOrder = groupOrder
    self.hostCreationOrder = hostCreationOrder
    var index: [String: Int] = [:]
    for (i, h) in hosts.enumerated() { index[h.name] = i }
    self.hostIndex = index
  }

  public func host(named name: String) -> InventoryHost? {
    hostIndex[name].map { hosts[$0] }
  }

  /// Hosts of `group` and of every group below it, in Ansible's `Group.get_hosts()` order.
  ///
  /// Ansible walks child groups level by level; within a level it iterates a Python set, whose
  /// order depends on memory addresses. dasprov takes the groups in declaration order there.
  func hostNames(inGroup name: String) -> [String] {
    Self.hostNames(inGroup: name, groups: groups)
  }

  static func hostNames(inGroup name: String, groups: [String: InventoryGroup]) -> [String] {
    guard let start = groups[name] else { return [] }
    var ordered = [start.name] + start.children
    var seen: Set<String> = []
    var level = [start.name] + start.children
    var levelSet = Set(level)
    while !level.isEmpty {
      seen.formUnion(levelSet)
      var next: [String] = []
      var nextSet: Set<String> = []
      for g in level {
        for c in groups[g]?.children ?? [] {
          if nextSet.insert(c).inserted { next.append(c) }
          if !seen.contains(c) { ordered.append(c) }
        }
      }
      level = next.filter { !seen.contains($0) }
      levelSet = Set(level)
    }
    var out: [String] = []
    var taken: Set<String> = []
    for g in ordered {
      for h in groups[g]?.hosts ?? [] where taken.insert(h).inserted { out.append(h) }
    }
    return out
  }

  // MARK: - ansible-inventory output

  /// `ansible-inventory -i FILE --list`, byte for byte (no trailing newline).
  ///
  /// Groups show `hosts` (direct members) and `children`; empty groups are left out except as
  /// someone's child; `all` lists only children. Merged host variables live in
  /// `_meta.hostvars`, only for hosts that have any. Group variables are not shown, exactly as
  /// in Ansible without `--export`.
  public func ansibleListJSON() -> String {
    var top: [String: Value] = [:]
    for (name, group) in groups {
      var entry: [String: Value] = [:]
      if name != "all", !group.hosts.isEmpty { entry["hosts"] = .list(group.hosts.map(Value.string)) }
      if !group.children.isEmpty { entry["children"] = .list(group.children.map(Value.string)) }
      if !entry.isEmpty { top[name] = .map(entry) }
    }
    var hostvars: [String: Value] = [:]
    for host in hosts {
      let shown = host.shownVars(unsafe: true)
      if !shown.isEmpty { hostvars[host.name] = .map(shown) }
    }
    top["_meta"] = .map(["hostvars": .map(hostvars), "profile": .string("inventory_legacy")])
    return PyFormat.json(.map(top))
  }

  /// `ansible-inventory -i FILE --graph` (no trailing newline).
  public func ansibleGraph() -> String {
    ansibleGraph(group: "all") ?? "@all:"
  }

  /// `ansible-inventory -i FILE --graph GROUP`; `nil` when there is no such group.
  public func ansibleGraph(group name: String) -> String? {
    guard groups[name] != nil else { return nil }
    var lines: [String] = []
    func walk(_ g: String, _ depth: Int) {
      lines.append(Self.graphLine("@\(g):", depth))
      guard let group = groups[g] else { return }
      for child in group.children { walk(child, depth + 1) }
      if g != "all" {
        for h in group.hosts { lines.append(Self.graphLine(h, depth + 1)) }
      }
    }
    walk(name, 0)
    return lines.joined(separator: "\n")
  }

  private static func graphLine(_ text: String, _ depth: Int) -> String {
    depth == 0 ? text : String(repeating: "  |", count: depth) + "--" + text
  }

  /// `ansible-inventory -i FILE --host NAME`: the host's merged variables as JSON, `{}` when it
  /// has none, `nil` for an unknown host. Vaulted values show their ciphertext; unlike `--list`,
  /// Ansible shows unsafe strings plainly here.
  public func hostVarsJSON(_ name: String) -> String? {
    host(named: name).map { PyFormat.json(.map($0.shownVars(unsafe: false))) }
  }
}

/// One inventory host.
public struct InventoryHost: Sendable, Hashable {
  public var name: String
  /// The variables Ansible would give the host from the inventory: group vars merged by
  /// Ansible's precedence, then the host's own (what `ansible-inventory --host` prints).
  public var vars: [String: Value]
  /// Ansible's `group_names`: every group the host belongs to, directly or through child
  /// groups, sorted, without `all` (but with `ungrouped` for hosts in no other group).
  public var groups: [String]
  /// Where the host is first declared.
  public var location: SourceRange?
  /// Where the winning value of each variable was set: a host line, a `[group:vars]` line, or
  /// a key in a group_vars/host_vars file.
  public var varOrigins: [String: SourceRange]
  /// The tagged strings (`!unsafe`, bytes literals, decrypted `!vault` values) inside each
  /// winning value.
  public var valueTags: [String: [TaggedLeaf]]

  public init(
    name: String, vars: [String: Value] = [:], groups: [String] = [], location: SourceRange? = nil,
    varOrigins: [String: SourceRange] = [:], valueTags: [String: [TaggedLeaf]] = [:]
  ) {
    self.name = name
    self.vars = vars
    self.groups = groups
    self.location = location
    self.varOrigins = varOrigins
    self.valueTags = valueTags
  }

  /// Whether the string at `path` of variable `name` must never be rendered as a template.
  public func isUnsafe(_ name: String, at path: [TaggedLeaf.Step] = []) -> Bool {
    valueTags[name]?.contains { $0.path == path && $0.tag == .unsafe } ?? false
  }

  /// The variables as ansible-inventory prints them: vaulted strings as their ciphertext
  /// object, (`unsafe`) untrusted strings as `{"__ansible_unsafe": …}`, and without the names
  /// of Ansible's magic variables.
  func shownVars(unsafe: Bool) -> [String: Value] {
    var out = vars.filter { !ReservedNames.hiddenFromListings.contains($0.key) }
    for (name, leaves) in valueTags where out[name] != nil {
      let shown = unsafe ? leaves : leaves.filter { $0.tag != .unsafe }
      if !shown.isEmpty, let value = vars[name] { out[name] = value.shown(with: shown) }
    }
    return out
  }
}

/// One inventory group.
public struct InventoryGroup: Sendable, Hashable {
  public var name: String
  /// Hosts listed in the group itself, in declaration order (not those of child groups).
  public var hosts: [String]
  /// Child groups, in the order Ansible linked them.
  public var children: [String]
  /// The group's own variables: `[name:vars]` overridden by `group_vars/name` files (what
  /// `ansible-inventory --export` shows), plus `ansible_group_priority` when it is not 1.
  public var vars: [String: Value]
  /// Where the group is first declared (`nil` for `all` and `ungrouped`).
  public var location: SourceRange?
  /// Longest chain of parents from `all`; deeper groups win variable conflicts.
  public var depth: Int
  /// `ansible_group_priority`: among groups of equal depth, higher wins (default 1).
  public var priority: Int

  public init(
    name: String, hosts: [String] = [], children: [String] = [], vars: [String: Value] = [:],
    location: SourceRange? = nil, depth: Int = 0, priority: Int = 1
  ) {
    self.name = name
    self.hosts = hosts
    self.children = children
    self.vars = vars
    self.location = location
    self.depth = depth
    self.priority = priority
  }
}
