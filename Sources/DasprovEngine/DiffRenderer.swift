import DasprovCore
import DasprovTasks

/// Renders `ContentDiff`s for `--diff`.
enum DiffRenderer {
  /// What the secrets of a diff replace: the password being rotated out is the one in use until
  /// the change lands, and the masker knows only the inventory's values. A line of the old side
  /// that matches a new line around a masked secret (`<password>…</password>`, `key=…`, or a
  /// whole value) holds a secret in that place.
  static func replacedSecrets(_ diffs: [ContentDiff], masker: SecretMasker) -> [String] {
    var pairs: [(old: String, new: String)] = []
    for d in diffs {
      switch d {
      case .text(_, let old, let new): pairs.append((old, new))
      case .xml(_, let changes): for c in changes { if let o = c.old, let n = c.new { pairs.append((o, n)) } }
      case .opaque: break
      }
    }
    var found: [String] = []
    for (old, new) in pairs where masker.mask(new) != new {
      let oldLines = old.split(separator: "\n", omittingEmptySubsequences: false)
      for line in new.split(separator: "\n", omittingEmptySubsequences: false) {
        let masked = masker.mask(String(line))
        guard let first = masked.range(of: SecretMasker.mask), let last = masked.range(of: SecretMasker.mask, options: .backwards) else { continue }
        let prefix = masked[..<first.lowerBound], suffix = masked[last.upperBound...]
        for o in oldLines where o.count > prefix.count + suffix.count && o.hasPrefix(prefix) && o.hasSuffix(suffix) {
          let value = String(o.dropFirst(prefix.count).dropLast(suffix.count))
          let unescaped = XMLEscaping.unescape(value)
          found += [value, unescaped].filter { $0 != SecretMasker.mask && !found.contains($0) }
        }
      }
    }
    return found
  }

  static func render(_ d: ContentDiff, output: Output) -> String {
    switch d {
    case .text(let path, let old, let new):
      let text = UnifiedDiff.diff(old: old, new: new, oldName: "\(path) (before)", newName: "\(path) (after)")
      return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        if line.hasPrefix("+") && !line.hasPrefix("+++") { return output.paint(String(line), .added) }
        if line.hasPrefix("-") && !line.hasPrefix("---") { return output.paint(String(line), .failed) }
        return String(line)
      }.joined(separator: "\n")
    case .xml(let path, let changes):
      var out = "--- \(path) (XML changes)"
      for c in changes {
        switch (c.old, c.new) {
        case (nil, let n?): out += "\n  + \(c.path) = \(n)"
        case (let o?, nil): out += "\n  - \(c.path) (was \(o))"
        case (let o?, let n?): out += "\n  ~ \(c.path): \(o) → \(n)"
        default: out += "\n  ~ \(c.path)"
        }
      }
      return out
    case .opaque(let path, let description):
      return "--- \(path): \(description)"
    }
  }
}
