import DasprovCore
import Foundation

/// A host pattern that cannot be evaluated.
public enum InventoryError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The pattern is empty or only separators.
  case emptyPattern
  /// A `~regex` term that does not compile.
  case invalidRegex(term: String, reason: String)
  /// `group[5]` where the group has fewer hosts (Ansible: "No hosts matched the subscripted
  /// pattern").
  case subscriptOutOfRange(term: String, hostCount: Int)

  public var description: String {
    switch self {
    case .emptyPattern:
      return "empty host pattern"
    case .invalidRegex(let term, let reason):
      return "invalid host pattern '\(term)': \(reason)"
    case .subscriptOutOfRange(let term, let count):
      return "no hosts matched the subscripted pattern '\(term)' (it selects from \(count) host\(count == 1 ? "" : "s"))"
    }
  }
}

/// The result of a host pattern, with the terms that matched nothing.
public struct HostPatternMatch: Sendable {
  public var hosts: [InventoryHost]
  /// Terms that named no host and no group. Ansible warns "Could not match supplied host
  /// pattern, ignoring" for each; `suggestion` is the closest known name, if any.
  public var unmatched: [(term: String, suggestion: String?)]
}

extension Inventory {
  /// Hosts selected by an Ansible host pattern, as `--limit` and `hosts:` use them.
  ///
  /// Terms are separated by `,` (or `:` when that cannot be an address or range). A term is a
  /// host or group name, a glob (`web*`, `db?`, `[ab]*`), or `~regex` (matched from the start);
  /// a group term may take a subscript (`web[0]`, `web[-1]`, `web[1:3]`, `web[2:]`).
  /// `&term` intersects, `!term` excludes; with only those, the base is `all`. Terms that match
  /// nothing are ignored, as in Ansible — use `match(_:)` to learn which they were.
  public func hosts(matching pattern: String) throws(InventoryError) -> [InventoryHost] {
    try match(pattern).hosts
  }

  /// `hosts(matching:)`, also reporting the terms that matched nothing.
  public func match(_ pattern: String) throws(InventoryError) -> HostPatternMatch {
    let terms = Self.splitHostPattern(pattern)
    guard !terms.isEmpty else { throw .emptyPattern }
    // Ansible applies plain terms first, then `&`, then `!`.
    var regular = terms.filter { !$0.hasPrefix("&") && !$0.hasPrefix("!") }
    let intersections = terms.filter { $0.hasPrefix("&") }
    let exclusions = terms.filter { $0.hasPrefix("!") }
    if regular.isEmpty { regular = ["all"] }

    var selected: [String] = []
    var unmatched: [(String, String?)] = []
    let hostNames = Set(hostCreationOrder)
    for term in regular + intersections + exclusions {
      if hostNames.contains(term) {
        selected.append(term)
        continue
      }
      let (names, matchedSomething) = try matchOne(term)
      if !matchedSomething {
        let bare = String(term.drop { $0 == "&" || $0 == "!" })
        unmatched.append((term, Suggestion.closest(to: bare, in: groupOrder + hostCreationOrder)))
      }
      if term.hasPrefix("!") {
        let drop = Set(names)
        selected.removeAll { drop.contains($0) }
      } else if term.hasPrefix("&") {
        let keep = Set(names)
        selected.removeAll { !keep.contains($0) }
      } else {
        let have = Set(selected)
        selected += names.filter { !have.contains($0) }
      }
    }
    var seen: Set<String> = []
    let hosts = selected.filter { seen.insert($0).inserted }.compactMap { host(named: $0) }
    return HostPatternMatch(hosts: hosts, unmatched: unmatched)
  }

  /// Ansible's `split_host_pattern`.
  static func splitHostPattern(_ pattern: String) -> [String] {
    let parts: [String]
    if pattern.contains(",") {
      parts = pattern.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    } else if HostWord.parseAddress(pattern) != nil {
      parts = [pattern]
    } else {
      // (?:[^\s:\[\]]|\[[^\]]*\])+ — colons separate, except inside brackets.
      var out: [String] = []
      var current = ""
      var chars = Array(pattern)[...]
      while let c = chars.first {
        if c == "[", let close = chars.firstIndex(of: "]") {
          current += String(chars[chars.startIndex...close])
          chars = chars[(close + 1)...]
          continue
        }
        chars = chars.dropFirst()
        if c == ":" || c == "[" || c == "]" || c.isWhitespace {
          if !current.isEmpty { out.append(current) }
          current = ""
        } else {
          current.append(c)
        }
      }
      if !current.isEmpty { out.append(current) }
      parts = out
    }
    return parts.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
  }

  /// One term without its `&`/`!`: the host names, and whether any group or host matched.
  private func matchOne(_ term: String) throws(InventoryError) -> ([String], Bool) {
    var expr = term
    if let f = expr.first, f == "&" || f == "!" { expr.removeFirst() }
    guard !expr.isEmpty else { return ([], false) }
    let (base, slice) = Self.splitSubscript(expr)
    let matcher = try NameMatcher(base)
    var names: [String] = []
    let groupsMatched = groupOrder.filter(matcher.matches)
    for g in groupsMatched { names += hostNames(inGroup: g) }
    if groupsMatched.isEmpty || base.hasPrefix("~")
      || base.contains(where: { ".?*[".contains($0) })
    {
      names += hostCreationOrder.filter(matcher.matches)
    }
    let matched = !names.isEmpty || !groupsMatched.isEmpty || base == "all"
    guard let (start, end) = slice, !names.isEmpty else { return (names, matched) }
    if let end, end != 0 {
      let last = end == -1 ? names.count - 1 : end
      guard start <= last, start < names.count else { return ([], matched) }
      return (Array(names[start...min(last, names.count - 1)]), matched)
    }
    let index = start < 0 ? names.count + start : start
    guard names.indices.contains(index) else {
      throw .subscriptOutOfRange(term: term, hostCount: names.count)
    }
    return ([names[index]], matched)
  }

  /// `name[3]`, `name[-1]`, `name[1:4]`, `name[2:]` (and the old `name[1-4]`); not for `~regex`.
  static func splitSubscript(_ pattern: String) -> (String, (Int, Int?)?) {
    guard !pattern.hasPrefix("~"), pattern.hasSuffix("]"),
      let open = pattern.lastIndex(of: "["), open > pattern.startIndex
    else { return (pattern, nil) }
    let inside = pattern[pattern.index(after: open)..<pattern.index(before: pattern.endIndex)]
    let base = String(pattern[..<open])
    func digits(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }
    if let idx = Int(inside), digits(inside.hasPrefix("-") ? inside.dropFirst() : inside) {
      return (base, (idx, nil))
    }
    if let sep = inside.firstIndex(where: { $0 == ":" || $0 == "-" }) {
      let a = inside[..<sep]
      let b = inside[inside.index(after: sep)...]
      guard digits(a), b.isEmpty || digits(b), let start = Int(a) else { return (pattern, nil) }
      return (base, (start, b.isEmpty ? -1 : Int(b)))
    }
    return (pattern, nil)
  }
}

/// Ansible's `_match_list`: `fnmatch` globs, or `~regex` matched from the start of the name.
private struct NameMatcher {
  private let regex: NSRegularExpression?
  private let glob: [Character]

  init(_ pattern: String) throws(InventoryError) {
    if pattern.hasPrefix("~") {
      do {
        regex = try NSRegularExpression(pattern: String(pattern.dropFirst()), options: [])
      } catch {
        throw .invalidRegex(term: pattern, reason: "not a valid regular expression")
      }
      glob = []
    } else {
      regex = nil
      glob = Array(pattern)
    }
  }

  func matches(_ name: String) -> Bool {
    if let regex {
      let range = NSRange(name.startIndex..., in: name)
      return regex.firstMatch(in: name, options: [.anchored], range: range) != nil
    }
    return Self.globMatch(glob[...], Array(name)[...])
  }

  /// `fnmatch.fnmatchcase`: `*`, `?`, `[abc]`, `[a-z]`, `[!abc]`; a `[` with no `]` is literal.
  private static func globMatch(_ p: ArraySlice<Character>, _ s: ArraySlice<Character>) -> Bool {
    guard let c = p.first else { return s.isEmpty }
    switch c {
    case "*":
      var rest = p.dropFirst()
      while rest.first == "*" { rest = rest.dropFirst() }
      if rest.isEmpty { return true }
      var tail = s
      while true {
        if globMatch(rest, tail) { return true }
        guard !tail.isEmpty else { return false }
        tail = tail.dropFirst()
      }
    case "?":
      return !s.isEmpty && globMatch(p.dropFirst(), s.dropFirst())
    case "[":
      if let (set, negated, after) = parseClass(p) {
        guard let ch = s.first else { return false }
        return set(ch) != negated && globMatch(after, s.dropFirst())
      }
      return s.first == "[" && globMatch(p.dropFirst(), s.dropFirst())
    default:
      return s.first == c && globMatch(p.dropFirst(), s.dropFirst())
    }
  }

  private static func parseClass(_ p: ArraySlice<Character>)
    -> ((Character) -> Bool, Bool, ArraySlice<Character>)?
  {
    var i = p.index(after: p.startIndex)
    var negated = false
    if i < p.endIndex, p[i] == "!" { negated = true; i = p.index(after: i) }
    var items: [(Character, Character)] = []
    var first = true
    while i < p.endIndex {
      let c = p[i]
      if c == "]" && !first {
        let ranges = items
        return ({ ch in ranges.contains { $0.0 <= ch && ch <= $0.1 } }, negated, p[(i + 1)...])
      }
      first = false
      if i + 2 < p.endIndex, p[i + 1] == "-", p[i + 2] != "]" {
        items.append((c, p[i + 2]))
        i += 3
      } else {
        items.append((c, c))
        i += 1
      }
    }
    return nil
  }
}
