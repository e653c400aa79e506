import DasprovCore

/// Reads an Ansible INI inventory into an `InventoryGraph`, line by line, as Ansible's `ini`
/// inventory plugin does — but where Ansible stops at the first problem (and then shows an
/// empty inventory), this reader records a diagnostic, skips the line or section, and goes on.
struct IniReader {
  let file: String
  private(set) var graph = InventoryGraph()
  private(set) var sink = DiagnosticSink()

  init(file: String) { self.file = file }

  private enum State: Equatable {
    case hosts, children, vars
    /// After a broken section header: ignore lines until the next header.
    case skip
  }

  /// A `[g:children]` entry or `[g:vars]` section naming a group not declared yet. Ansible
  /// accepts forward references and checks them at the end.
  private struct Pending {
    var isChildren: Bool
    var name: String
    var location: SourceRange
    /// Each `[parent:children]` that listed the group, with where.
    var parents: [(Int, SourceRange)] = []
  }

  private var pending: [String: Pending] = [:]
  private var pendingOrder: [String] = []
  private var group = InventoryGraph.ungrouped
  private var groupName = "ungrouped"
  private var state = State.hosts
  /// Set once the file turns out to be YAML: one error says so, the rest would be noise.
  private var stopped = false

  // MARK: - Lines

  mutating func read(_ text: String) {
    let all = Array(text.unicodeScalars)
    var lineNumber = 0
    var lineStart = 0
    while lineStart <= all.count {
      var end = lineStart
      while end < all.count, all[end] != "\n" { end += 1 }
      lineNumber += 1
      var contentEnd = end
      if contentEnd > lineStart, all[contentEnd - 1] == "\r" { contentEnd -= 1 }
      // Python's splitlines() also breaks at \r, \v, \f, \x1c-\x1e, \x85, \u2028 and \u2029;
      // the pieces keep the physical line's number.
      var start = lineStart
      for k in lineStart..<contentEnd where Self.isPythonLineBreak(all[k]) {
        readLine(Line(scalars: all, lineStart: lineStart, start: start, end: k, number: lineNumber, file: file))
        start = k + 1
      }
      readLine(Line(scalars: all, lineStart: lineStart, start: start, end: contentEnd, number: lineNumber, file: file))
      lineStart = end + 1
    }
    finishPending()
    graph.reconcile()
    warnAboutNames()
  }

  private static func isPythonLineBreak(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x0D, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029: return true
    default: return false
    }
  }

  private mutating func readLine(_ raw: Line) {
    guard !stopped else { return }
    let line = raw.stripped()
    guard let first = line.first, first != "#", first != ";" else { return }
    if first == "[" {
      if let header = SectionHeader.parse(line) {
        startSection(header, line)
        return
      }
      if line.last == "]" {
        reportMalformedHeader(line)
        state = .skip
        return
      }
      // Without any ']' this cannot be a host either (Ansible fails on the range); in a
      // :vars section Ansible would read `[x=1` as a variable named `[x`.
      if !line.contains("]") && !(state == .vars && line.contains("=")) {
        sink.error("malformed section header: expected ']'", at: line.range(0, line.count))
        state = .skip
        return
      }
    }
    switch state {
    case .hosts: readHostLine(line)
    case .vars: readVariableLine(line)
    case .children: readChildLine(line)
    case .skip: break
    }
  }

  // MARK: - Section headers

  private mutating func startSection(_ header: SectionHeader, _ line: Line) {
    let name = header.name
    let kind = header.kind ?? "hosts"
    guard ["hosts", "children", "vars"].contains(kind) else {
      let suggestion = Suggestion.didYouMean(kind, in: ["vars", "children"])
      sink.error(
        "unknown section type '\(kind)' in [\(bareName: name):\(kind)]: expected [\(bareName: name)], [\(bareName: name):vars] or [\(bareName: name):children]\(suggestion)",
        at: line.range(header.kindOffset, kind.unicodeScalars.count))
      state = .skip
      return
    }
    let location = line.range(1, name.unicodeScalars.count)
    if graph.groupIndex[name] == nil {
      // [g:vars] alone does not declare g; note it and check at the end.
      if kind == "vars" && pending[name] == nil {
        addPending(Pending(isChildren: false, name: name, location: location))
      }
      _ = graph.addGroup(name, at: location)
    }
    if kind != "vars", let p = pending[name] {
      if p.isChildren {
        resolvePendingChildren(of: name)
      } else {
        removePending(name)
      }
    }
    group = graph.groupIndex[name]!
    groupName = name
    state = kind == "hosts" ? .hosts : kind == "vars" ? .vars : .children
  }

  private mutating func addPending(_ p: Pending) {
    pending[p.name] = p
    pendingOrder.append(p.name)
  }

  private mutating func removePending(_ name: String) {
    pending[name] = nil
    pendingOrder.removeAll { $0 == name }
  }

  /// Ansible's `_add_pending_children`: the group now exists, so link it to every parent that
  /// named it earlier (and, recursively, parents that were themselves waiting).
  private mutating func resolvePendingChildren(of name: String) {
    guard let p = pending[name] else { return }
    let child = graph.groupIndex[name]!
    removePending(name)
    for (parent, location) in p.parents {
      link(parent: parent, child: child, at: location)
      let parentName = graph.groups[parent].name
      if let waiting = pending[parentName], waiting.isChildren {
        resolvePendingChildren(of: parentName)
      }
    }
  }

  private mutating func link(parent: Int, child: Int, at location: SourceRange) {
    // Every top-level group becomes a child of `all` later (reconcile), so `all` under a group
    // is a loop Ansible rejects then ("recursive dependency loop"); depths() would never end.
    guard child != InventoryGraph.all else {
      sink.error("group 'all' cannot be a child of \(name: graph.groups[parent].name): every group is already under 'all'", at: location)
      return
    }
    do {
      try graph.addChild(parent, child)
    } catch {
      switch error {
      case .selfChild:
        sink.error("group \(name: graph.groups[child].name) cannot be a child of itself", at: location)
      case .cycle(let chain):
        let names = ([parent] + chain).map { graph.groups[$0].name }
        sink.error("cycle in group children: \(names.joined(separator: " -> "))", at: location)
      }
    }
  }

  private mutating func finishPending() {
    let groupNames = graph.groups.map(\.name)
    for name in pendingOrder {
      guard let p = pending[name] else { continue }
      let suggestion = Suggestion.didYouMean(name, in: groupNames.filter { $0 != name })
      if p.isChildren {
        for (parent, location) in p.parents {
          let parentName = graph.groups[parent].name
          if graph.hostIndex[name] != nil {
            sink.error(
              "\(name: name) under [\(bareName: parentName):children] is a host, not a group; list it under [\(bareName: parentName)]",
              at: location)
          } else {
            sink.error("[\(bareName: parentName):children] includes undefined group \(name: name)\(suggestion)", at: location)
          }
        }
      } else {
        sink.error(
          "[\(bareName: name):vars] is for undefined group \(name: name): declare it with [\(bareName: name)] or list it in a [GROUP:children] section\(suggestion)",
          at: p.location)
      }
    }
  }

  private mutating func reportMalformedHeader(_ line: Line) {
    let inner = Array(line.scalars[(line.start + 1)..<(line.end - 1)])
    if inner.isEmpty || inner.first == ":" {
      sink.error("malformed section header: expected a group name after '['", at: line.range(1, 1))
      return
    }
    if let space = inner.firstIndex(where: Line.isPythonSpace) {
      sink.error(
        "malformed section header: group names cannot contain spaces",
        at: line.range(space + 1, 1))
      return
    }
    let colons = inner.indices.filter { inner[$0] == ":" }
    if colons.count > 1 {
      sink.error(
        "malformed section header: expected [NAME], [NAME:vars] or [NAME:children]",
        at: line.range(colons[1] + 1, 1))
      return
    }
    if let bracket = inner.firstIndex(where: { $0 == "]" || $0 == "[" }) {
      sink.error(
        "malformed section header: unexpected '\(inner[bracket])' in the group name",
        at: line.range(bracket + 1, 1))
      return
    }
    let kindStart = (colons.first ?? -1) + 1
    sink.error(
      "malformed section header: the section type after ':' must be a word like 'vars' or 'children'",
      at: line.range(kindStart + 1, max(1, inner.count - kindStart)))
  }

  // MARK: - [group] host lines

  private mutating func readHostLine(_ line: Line) {
    let tokens: [Shlex.Token]
    do {
      tokens = try Shlex.split(Array(line.scalars[line.start..<line.end]))
    } catch {
      switch error {
      case .unclosedQuote(let at):
        sink.error("unterminated quote in host line: expected a closing quote", at: line.range(at, 1))
      case .danglingEscape(let at):
        sink.error("host line ends with '\\': expected a character to escape", at: line.range(at, 1))
      }
      return
    }
    guard let word = tokens.first else { return }
    let wordRange = line.range(word.start, word.end - word.start)

    let expanded: HostWord.Expanded
    do {
      expanded = try HostWord.expand(word.text)
    } catch {
      if looksLikeHeaderWithTrailingText(line) {
        sink.error(
          "malformed section header: only a '#' comment may follow ']'",
          at: line.range(line.firstIndex(of: "]")! + 1, 1))
      } else {
        sink.error(error.message, at: wordRange)
      }
      return
    }
    if expanded.port == nil, word.text.utf8.contains(UInt8(ascii: ":")),
      word.text.trimmingPythonWhitespace().hasSuffix(":")
    {
      sink.error(
        "host \(name: word.text) ends in ':': expected a port number after ':'", at: wordRange)
      return
    }
    // Ranges only add letters and digits, so only a lone name can be "---".
    if expanded.names.count == 1, expanded.names[0].utf8.contains(UInt8(ascii: "-")),
      expanded.names[0].trimmingPythonWhitespace() == "---"
    {
      sink.error(
        "'---' is not a host name: this looks like a YAML inventory, and dasprov reads INI inventories",
        at: wordRange)
      stopped = true
      return
    }

    // key=value words: Ansible's literal_eval typing.
    var variables: [(String, Value, SourceRange, [TaggedLeaf])] = []
    var failed = false
    for token in tokens.dropFirst() {
      let range = line.range(token.start, token.end - token.start)
      guard let eq = token.text.utf8.firstIndex(of: UInt8(ascii: "=")) else {
        sink.error(
          "expected key=value after the host name, got '\(token.text)'", at: range)
        failed = true
        continue
      }
      let key = String(token.text[..<eq])
      let raw = String(token.text[token.text.index(after: eq)...])
      do {
        var unsafe: [TaggedLeaf] = []
        let value = try PyLiteral.evaluate(raw, unsafe: &unsafe)
        variables.append((key, value, range, unsafe))
      } catch {
        sink.error("cannot read the value of \(name: key): \(error.message)", at: range)
        failed = true
      }
    }
    if failed { return }
    for (key, _, range, _) in variables { checkVariableName(key, at: range) }

    var warnedKeys: Set<String> = []
    var warnedPort = false
    for name in expanded.names {
      guard !name.isEmpty else {
        sink.error("empty host name", at: wordRange)
        return
      }
      let (h, isNew) = graph.addHost(name, to: group, at: wordRange)
      if let port = expanded.port {
        if isNew {
          // Ansible's Host(name, port) sets ansible_port only for a non-zero port.
          if let p = Int(port) {
            if p != 0 { graph.setHostVar(h, "ansible_port", .int(p), at: wordRange) }
          } else {
            graph.setHostVar(h, "ansible_port", .string(port), at: wordRange)
          }
        } else if !warnedPort, graph.hosts[h].vars["ansible_port"] != Int(port).map(Value.int) {
          warnedPort = true
          sink.add(
            .warning(
              "port \(port) ignored: host \(name: name) was declared before, and Ansible only takes the port from the first declaration",
              at: wordRange,
              notes: graph.hosts[h].location.map { [.note("first declared here", at: $0)] } ?? []))
        }
      }
      for (key, value, range, unsafe) in variables {
        if let old = graph.hosts[h].vars[key], old != value,
          let oldOrigin = graph.hosts[h].varOrigins[key], oldOrigin != wordRange,
          warnedKeys.insert(key).inserted
        {
          sink.add(
            .warning(
              "variable \(name: key) of host \(name: name) is set again; the later value wins, as in Ansible",
              at: range, notes: [.note("previously set here", at: oldOrigin)]))
        }
        graph.setHostVar(h, key, value, at: range, tags: unsafe)
      }
    }
  }

  /// `[web] ; note` or `[web]x`: Ansible reads these as host lines and fails on the range.
  private func looksLikeHeaderWithTrailingText(_ line: Line) -> Bool {
    guard let close = line.firstIndex(of: "]") else { return false }
    var candidate = line
    candidate.end = line.start + close + 1
    return SectionHeader.parse(candidate) != nil
  }

  // MARK: - [group:vars]

  private mutating func readVariableLine(_ line: Line) {
    let text = line.text
    guard let eq = text.firstIndex(of: "=") else {
      sink.error(
        "expected 'name=value' in [\(bareName: groupName):vars], got '\(text)'",
        at: line.range(0, line.count))
      return
    }
    let key = String(text[..<eq]).trimmingPythonWhitespace()
    let raw = String(text[text.index(after: eq)...]).trimmingPythonWhitespace()
    let range = line.range(0, line.count)
    let value: Value
    var unsafe: [TaggedLeaf] = []
    do {
      value = try PyLiteral.evaluate(raw, unsafe: &unsafe)
    } catch {
      sink.error("cannot read the value of \(name: key): \(error.message)", at: range)
      return
    }
    checkVariableName(key, at: range)
    if key == "ansible_group_priority" {
      // Ansible turns it into the group's priority (int(value)) instead of a variable.
      guard let priority = Self.pythonIntConversion(value) else {
        sink.error(
          "ansible_group_priority must be an integer, got \(value.typeName) '\(raw)'", at: range)
        return
      }
      graph.setPriority(group, priority)
      return
    }
    if let old = graph.groups[group].vars[key], old != value,
      let oldOrigin = graph.groups[group].varOrigins[key]
    {
      sink.add(
        .warning(
          "variable \(name: key) of group \(name: groupName) is set again; the later value wins, as in Ansible",
          at: range, notes: [.note("previously set here", at: oldOrigin)]))
    }
    graph.setGroupVar(group, key, value, at: range, tags: unsafe)
  }

  /// Python's `int(value)` on what literal_eval returned.
  static func pythonIntConversion(_ value: Value) -> Int? {
    switch value {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    case .double(let d): return d.isFinite ? Int(d.rounded(.towardZero)) : nil
    case .string(let s): return HostWord.pythonInt(s)
    default: return nil
    }
  }

  // MARK: - [group:children]

  private mutating func readChildLine(_ line: Line) {
    // Ansible: ^([^:\]\s]+)\s*(#.*)?$
    var end = 0
    let s = Array(line.scalars[line.start..<line.end])
    while end < s.count, s[end] != ":", s[end] != "]", !Line.isPythonSpace(s[end]) { end += 1 }
    var rest = end
    while rest < s.count, Line.isPythonSpace(s[rest]) { rest += 1 }
    guard end > 0, rest == s.count || s[rest] == "#" else {
      sink.error(
        "expected one group name per line in [\(bareName: groupName):children], got '\(line.text)'",
        at: line.range(0, line.count))
      return
    }
    let child = String(String.UnicodeScalarView(s[0..<end]))
    let location = line.range(0, end)
    if let c = graph.groupIndex[child] {
      link(parent: group, child: c, at: location)
    } else if pending[child] != nil {
      pending[child]!.parents.append((group, location))
    } else {
      addPending(Pending(isChildren: true, name: child, location: location, parents: [(group, location)]))
    }
  }

  // MARK: - Names

  /// Ansible accepts these but warns (a deprecation for variables); so does dasprov.
  private mutating func checkVariableName(_ key: String, at range: SourceRange) {
    guard !Self.isValidVariableName(key) else { return }
    sink.warning(
      "\(name: key) is not a valid variable name (letters, digits and '_', not starting with a digit); Ansible accepts it with a deprecation warning",
      at: range)
  }

  /// Jinja's keywords, which Ansible refuses as variable names.
  private static let jinjaKeywords: Set<String> = [
    "True", "False", "None", "true", "false", "none", "and", "or", "not", "if", "else", "in", "is",
    "for", "import", "with", "as", "block", "endblock", "macro", "endmacro", "set", "recursive",
  ]

  /// Python's `isidentifier() and isascii()`, minus Jinja keywords.
  static func isValidVariableName(_ name: String) -> Bool {
    guard let first = name.utf8.first, first == UInt8(ascii: "_") || isASCIILetter(first) else {
      return false
    }
    return name.utf8.allSatisfy {
      $0 == UInt8(ascii: "_") || isASCIILetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
    } && !jinjaKeywords.contains(name)
  }

  private static func isASCIILetter(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
  }

  private mutating func warnAboutNames() {
    for g in graph.groups where g.name != "all" && g.name != "ungrouped" {
      if !Self.isGroupNameSafe(g.name) {
        sink.warning(
          "group name \(name: g.name) has characters that are not valid in a variable name; Ansible keeps it and warns too",
          at: g.location)
      }
      if let h = graph.hostIndex[g.name] {
        sink.add(
          .warning(
            "\(name: g.name) is both a group and a host", at: g.location,
            notes: graph.hosts[h].location.map { [.note("host declared here", at: $0)] } ?? []))
      }
    }
  }

  /// Ansible's INVALID_VARIABLE_NAMES test: `^[\d\W]|[^\w]`.
  static func isGroupNameSafe(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, !(first >= "0" && first <= "9") else { return false }
    return name.unicodeScalars.allSatisfy(HostWord.isWordChar)
  }
}
