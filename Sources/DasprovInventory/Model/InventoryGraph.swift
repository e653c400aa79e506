import DasprovCore

/// Ansible's in-memory inventory (`InventoryData`, `Group`, `Host`), rebuilt so the same inputs
/// give the same groups, memberships and orders.
///
/// Orders matter because `--list` and `--graph` print them: groups and hosts keep creation
/// order, a group's children and hosts keep the order they were added in.
struct InventoryGraph {
  struct Group {
    var name: String
    var hosts: [Int] = []
    var hostSet: Set<Int> = []
    var children: [Int] = []
    var parents: [Int] = []
    var vars: [String: Value] = [:]
    var varOrigins: [String: SourceRange] = [:]
    var varTags: [String: [TaggedLeaf]] = [:]
    var priority = 1
    var location: SourceRange?
  }

  struct Host {
    var name: String
    var vars: [String: Value] = [:]
    var varOrigins: [String: SourceRange] = [:]
    var varTags: [String: [TaggedLeaf]] = [:]
    var location: SourceRange?
    /// The groups that list the host directly, in the order it was added to them.
    var directGroups: [Int] = []
  }

  static let all = 0
  static let ungrouped = 1

  private(set) var groups: [Group] = []
  private(set) var groupIndex: [String: Int] = [:]
  private(set) var hosts: [Host] = []
  private(set) var hostIndex: [String: Int] = [:]

  init() {
    _ = addGroup("all", at: nil)
    _ = addGroup("ungrouped", at: nil)
    addChildUnchecked(Self.all, Self.ungrouped)
  }

  // MARK: - Building

  mutating func addGroup(_ name: String, at location: SourceRange?) -> Int {
    if let g = groupIndex[name] { return g }
    groups.append(Group(name: name, location: location))
    groupIndex[name] = groups.count - 1
    return groups.count - 1
  }

  /// Adds the host if it is new (the port only counts then) and puts it in `group`.
  mutating func addHost(_ name: String, to group: Int, at location: SourceRange?) -> (Int, isNew: Bool) {
    let h: Int
    var isNew = false
    if let existing = hostIndex[name] {
      h = existing
    } else {
      hosts.append(Host(name: name, location: location))
      h = hosts.count - 1
      hostIndex[name] = h
      isNew = true
    }
    if !groups[group].hostSet.contains(h) {
      groups[group].hosts.append(h)
      groups[group].hostSet.insert(h)
      hosts[h].directGroups.append(group)
    }
    return (h, isNew)
  }

  mutating func setHostVar(
    _ h: Int, _ key: String, _ value: Value, at origin: SourceRange?, tags: [TaggedLeaf] = []
  ) {
    hosts[h].vars[key] = value
    hosts[h].varOrigins[key] = origin
    hosts[h].varTags[key] = tags.isEmpty ? nil : tags
  }

  mutating func setGroupVar(
    _ g: Int, _ key: String, _ value: Value, at origin: SourceRange?, tags: [TaggedLeaf] = []
  ) {
    groups[g].vars[key] = value
    groups[g].varOrigins[key] = origin
    groups[g].varTags[key] = tags.isEmpty ? nil : tags
  }

  mutating func setPriority(_ g: Int, _ priority: Int) {
    groups[g].priority = priority
  }

  enum ChildError: Error, Equatable {
    case selfChild
    /// The chain of groups from the new child down to the parent, child first.
    case cycle([Int])
  }

  /// `Group.add_child_group`: refuses a group as its own child and edges that close a loop.
  mutating func addChild(_ parent: Int, _ child: Int) throws(ChildError) {
    guard parent != child else { throw .selfChild }
    if groups[parent].children.contains(child) { return }
    if ancestors(of: parent).contains(child) {
      throw .cycle(path(from: child, to: parent))
    }
    addChildUnchecked(parent, child)
  }

  private mutating func addChildUnchecked(_ parent: Int, _ child: Int) {
    groups[parent].children.append(child)
    if !groups[child].parents.contains(parent) { groups[child].parents.append(parent) }
  }

  func ancestors(of g: Int) -> Set<Int> {
    var seen: Set<Int> = []
    var stack = groups[g].parents
    while let p = stack.popLast() {
      if seen.insert(p).inserted { stack += groups[p].parents }
    }
    return seen
  }

  /// A chain of child edges from `start` down to `goal` (both included).
  private func path(from start: Int, to goal: Int) -> [Int] {
    var previous: [Int: Int] = [start: start]
    var queue = [start]
    var head = 0
    while head < queue.count {
      let g = queue[head]
      head += 1
      if g == goal { break }
      for c in groups[g].children where previous[c] == nil {
        previous[c] = g
        queue.append(c)
      }
    }
    var chain = [goal]
    var g = goal
    while g != start, let p = previous[g] {
      chain.append(p)
      g = p
    }
    return chain.reversed()
  }

  // MARK: - reconcile_inventory

  /// Ansible's `reconcile_inventory`: top-level groups become children of `all`; a host that
  /// is in some real group leaves `ungrouped`; a host only in `all` joins `ungrouped`.
  mutating func reconcile() {
    for g in groups.indices where g != Self.all && groups[g].parents.isEmpty {
      addChildUnchecked(Self.all, g)
    }
    let ancestorsOf = groups.indices.map { ancestors(of: $0) }
    for h in hosts.indices {
      let mine = memberships(of: h, ancestors: ancestorsOf)
      if mine.contains(Self.ungrouped) {
        let others = mine.subtracting([Self.all, Self.ungrouped])
        if !others.isEmpty, groups[Self.ungrouped].hostSet.contains(h) {
          groups[Self.ungrouped].hosts.removeAll { $0 == h }
          groups[Self.ungrouped].hostSet.remove(h)
          hosts[h].directGroups.removeAll { $0 == Self.ungrouped }
        }
      } else if mine.isEmpty || mine == [Self.all] {
        _ = addHost(hosts[h].name, to: Self.ungrouped, at: nil)
      }
    }
  }

  /// Every group the host is in, directly or through a child group (Ansible's `host.groups`).
  func memberships(of h: Int, ancestors ancestorsOf: [Set<Int>]) -> Set<Int> {
    var mine: Set<Int> = []
    for g in hosts[h].directGroups {
      mine.insert(g)
      mine.formUnion(ancestorsOf[g])
    }
    return mine
  }

  /// Longest chain of parents from `all` (Ansible's `Group.depth`); `all` is 0.
  func depths() -> [Int] {
    var depth = [Int?](repeating: nil, count: groups.count)
    func visit(_ g: Int) -> Int {
      if let d = depth[g] { return d }
      let d = groups[g].parents.map { visit($0) + 1 }.max() ?? 0
      depth[g] = d
      return d
    }
    return groups.indices.map(visit)
  }
}
