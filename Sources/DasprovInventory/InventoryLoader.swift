import DasprovCore
import Foundation

/// Loads Ansible INI inventories.
public enum InventoryLoader {
  /// Reads an INI inventory and the `group_vars/` and `host_vars/` beside it.
  ///
  /// Warnings are returned; errors are thrown all at once (with the warnings found so far), so
  /// one run shows every problem. A malformed inventory is an error, never an empty inventory.
  /// Values of variables named like `*password*` or `*secret*`, and every value decrypted with
  /// `vault` (inline `!vault` values, vault-encrypted files), are registered with
  /// `reporting.secrets`; the files read, with `reporting.sources`. Vaulted data that `vault`
  /// cannot decrypt is an error.
  public static func load(
    path: String, vault: VaultSecrets = VaultSecrets(), reporting: Reporting = Reporting()
  ) throws(DiagnosticList) -> (
    inventory: Inventory, warnings: [Diagnostic]
  ) {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw DiagnosticList([.error("cannot read inventory \(name: path): no such file")])
    }
    guard !isDir.boolValue else {
      throw DiagnosticList([
        .error("inventory \(name: path) is a directory; dasprov reads one INI inventory file")
      ])
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DiagnosticList([.error("cannot read inventory \(name: path): permission denied")])
    }
    let text: String
    do {
      text = try decode(data, file: path)
    } catch {
      throw DiagnosticList([error])
    }
    let directory = (path as NSString).deletingLastPathComponent
    return try build(text: text, file: path, varsDirectory: directory, vault: vault, reporting: reporting)
  }

  /// Parses inventory text without looking for group_vars/host_vars.
  public static func parse(text: String, file: String, reporting: Reporting = Reporting()) throws(DiagnosticList) -> (
    inventory: Inventory, warnings: [Diagnostic]
  ) {
    try build(text: text, file: file, varsDirectory: nil, reporting: reporting)
  }

  /// Ansible reads the file as UTF-8 but tolerates other bytes on comment lines.
  private static func decode(_ data: Data, file: String) throws(Diagnostic) -> String {
    if let text = String(validating: data, as: UTF8.self) { return text }

    var lines: [String] = []
    for (n, bytes) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
      .enumerated()
    {
      if let first = bytes.first, first == UInt8(ascii: "#") || first == UInt8(ascii: ";") {
        lines.append("")
      } else if let line = String(validating: bytes, as: UTF8.self) {
        lines.append(line)
      } else {
        throw .error(
          "this line is not valid UTF-8 (Ansible allows other bytes only on comment lines)",
          at: SourceRange(file: file, line: n + 1, column: 1))
      }
    }
    return lines.joined(separator: "\n")
  }

  static func build(
    text original: String, file: String, varsDirectory: String?, vault: VaultSecrets = VaultSecrets(),
    reporting: Reporting
  ) throws(DiagnosticList) -> (
    inventory: Inventory, warnings: [Diagnostic]
  ) {
    // Editors on Windows start files with a byte order mark. ansible-inventory 2.19 reads it as
    // part of the first line (and then reports a bad host range); dasprov reads past it.
    var text = original
    var notes: [Diagnostic] = []
    if text.unicodeScalars.first == "\u{FEFF}" {
      text.unicodeScalars.removeFirst()
      notes.append(
        .warning(
          "the file starts with a UTF-8 byte order mark; dasprov reads past it, ansible-inventory 2.19 cannot read this file",
          at: SourceRange(file: file, line: 1, column: 1)))
    }
    // SourceFiles splits on "\n" only; give it LF line ends so CRLF files quote correctly.
    reporting.sources.register(
      file: file,
      text: text.utf8.contains(13) ? text.replacingOccurrences(of: "\r\n", with: "\n") : text,
      names: NameSpans.ini)
    var reader = IniReader(file: file)
    reader.read(text)
    var diagnostics = DiagnosticSink()
    diagnostics.add(contentsOf: notes + reader.sink.diagnostics)
    let graph = reader.graph
    let depths = graph.depths()

    var files = varsDirectory.map { VarsFileReader(baseDirectory: $0, vault: vault, sources: reporting.sources) }
    let groupFiles: [FileVars] = graph.groups.map { g in
      files?.vars(for: .group, named: g.name) ?? FileVars()
    }
    let hosts = mergedHosts(graph, depths: depths, groupFiles: groupFiles) { name in
      files?.vars(for: .host, named: name)
    }
    if let files { diagnostics.add(contentsOf: files.diagnostics.diagnostics) }

    var groups: [String: InventoryGroup] = [:]
    for (g, group) in graph.groups.enumerated() {
      var vars = group.vars
      for (k, v) in groupFiles[g].values { vars[k] = v }
      if group.priority != 1 { vars["ansible_group_priority"] = .int(group.priority) }
      groups[group.name] = InventoryGroup(
        name: group.name, hosts: group.hosts.map { graph.hosts[$0].name },
        children: group.children.map { graph.groups[$0].name }, vars: vars,
        location: group.location, depth: depths[g], priority: group.priority)
    }

    diagnostics.add(contentsOf: ReservedNames.warnings(for: hosts.values))
    let list = diagnostics.diagnostics
    if diagnostics.hasErrors { throw DiagnosticList(list) }
    registerSecrets(hosts: hosts.values, groups: groups.values, with: reporting.secrets)
    for plaintext in files?.decrypted ?? [] { reporting.secrets.add(plaintext) }
    let order = Inventory.hostNames(inGroup: "all", groups: groups)
    var inventory = Inventory(
      sourceFile: file, hosts: order.compactMap { hosts[$0] }, groups: groups,
      groupOrder: graph.groups.map(\.name), hostCreationOrder: graph.hosts.map(\.name))
    inventory.encryptedVarsFiles = files?.encryptedFiles ?? []
    return (inventory, list)
  }

  /// Every host with its variables merged by Ansible's precedence (see `groupLayers`), then
  /// its inline variables, then its host_vars files.
  private static func mergedHosts(
    _ graph: InventoryGraph, depths: [Int], groupFiles: [FileVars],
    hostFiles: (String) -> FileVars?
  ) -> [String: InventoryHost] {
    let ancestorsOf = graph.groups.indices.map { graph.ancestors(of: $0) }
    // Hosts in the same groups share the group layers; compute them once per group set.
    var byGroupSet: [[Int]: FileVars] = [:]
    var result: [String: InventoryHost] = [:]
    for h in graph.hosts.indices {
      let host = graph.hosts[h]
      let mine = graph.memberships(of: h, ancestors: ancestorsOf).subtracting([InventoryGraph.all])
      // Ansible's sort_groups: depth, then priority, then name.
      let sorted = mine.sorted { a, b in
        let (ga, gb) = (graph.groups[a], graph.groups[b])
        if depths[a] != depths[b] { return depths[a] < depths[b] }
        if ga.priority != gb.priority { return ga.priority < gb.priority }
        return PyFormat.codePointLess(ga.name, gb.name)
      }
      var merged: FileVars
      if let cached = byGroupSet[sorted] {
        merged = cached
      } else {
        merged = groupLayers(sorted, graph: graph, groupFiles: groupFiles)
        byGroupSet[sorted] = merged
      }
      merged.merge(FileVars(values: host.vars, origins: host.varOrigins, tags: host.varTags))
      if let files = hostFiles(host.name) { merged.merge(files) }
      result[host.name] = InventoryHost(
        name: host.name, vars: merged.values,
        groups: PyFormat.sortedKeys(sorted.map { graph.groups[$0].name }),
        location: host.location, varOrigins: merged.origins, valueTags: merged.tags)
    }
    return result
  }

  /// The contract masks every variable whose name contains `password` or `secret` wherever
  /// dasprov prints; the inventory is where most of them come from, so register them here.
  /// A template (`"{{ vault_db_password }}"`) is not the secret: what it renders to is, and
  /// `templatedHostVars` registers that. An `!unsafe` string is never a template.
  private static func registerSecrets(
    hosts: some Sequence<InventoryHost>, groups: some Sequence<InventoryGroup>, with masker: SecretMasker
  ) {
    func register(_ value: Value, _ path: [TaggedLeaf.Step], unsafe: Set<[TaggedLeaf.Step]>) {
      switch value {
      case .string(let s):
        if unsafe.contains(path) || !TemplateLexer.isPossiblyTemplate(s) { masker.add(s) }
      case .int, .double: masker.add(value.description)
      case .list(let items): for (n, item) in items.enumerated() { register(item, path + [.index(n)], unsafe: unsafe) }
      case .map(let m): for (k, item) in m { register(item, path + [.key(k)], unsafe: unsafe) }
      case .null, .bool: break
      }
    }
    for host in hosts {
      for (name, value) in host.vars where VariableResolver.isSecretName(name) {
        let unsafe = Set(host.valueTags[name, default: []].filter { $0.tag == .unsafe }.map(\.path))
        register(value, [], unsafe: unsafe)
      }
    }
    for group in groups {
      for (name, value) in group.vars where VariableResolver.isSecretName(name) { register(value, [], unsafe: []) }
    }
  }

  /// Ansible's group precedence for one host (its `VARIABLE_PRECEDENCE` default):
  /// `[all:vars]` < every other group's `[g:vars]` by (depth, priority, name) <
  /// `group_vars/all` < every other group's `group_vars` files in the same order.
  private static func groupLayers(_ sorted: [Int], graph: InventoryGraph, groupFiles: [FileVars])
    -> FileVars
  {
    var out = FileVars()
    let all = graph.groups[InventoryGraph.all]
    out.merge(FileVars(values: all.vars, origins: all.varOrigins, tags: all.varTags))
    for g in sorted {
      let group = graph.groups[g]
      out.merge(FileVars(values: group.vars, origins: group.varOrigins, tags: group.varTags))
    }
    out.merge(groupFiles[InventoryGraph.all])
    for g in sorted { out.merge(groupFiles[g]) }
    return out
  }
}
