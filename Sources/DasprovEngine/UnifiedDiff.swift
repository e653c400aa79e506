/// A unified diff of two texts, as `diff -u` prints it, for `--diff` output.
///
/// Config edits are local, so the common prefix and suffix are trimmed first and the LCS table
/// covers only the changed middle.
public enum UnifiedDiff {
  public static func diff(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> String {
    let a = lines(old)
    let b = lines(new)
    let ops = edits(a, b)
    guard ops.contains(where: { $0.kind != .same }) else { return "" }
    var out = "--- \(oldName)\n+++ \(newName)\n"
    var i = 0
    while i < ops.count {
      guard let firstChange = ops[i...].firstIndex(where: { $0.kind != .same }) else { break }
      var start = max(i, firstChange - context)
      if start < i { start = i }
      var end = firstChange
      // Extend the hunk while changes are within 2*context lines of each other.
      var j = firstChange
      while j < ops.count {
        if ops[j].kind != .same {
          end = j
          j += 1
          continue
        }
        let nextChange = ops[j...].firstIndex { $0.kind != .same }
        if let n = nextChange, n - end <= 2 * context { j = n } else { break }
      }
      let stop = min(ops.count, end + context + 1)
      let hunk = ops[start..<stop]
      let oldStart = hunk.first { $0.oldLine != nil }?.oldLine ?? (ops[..<start].last { $0.oldLine != nil }?.oldLine ?? 0)
      let newStart = hunk.first { $0.newLine != nil }?.newLine ?? (ops[..<start].last { $0.newLine != nil }?.newLine ?? 0)
      let oldCount = hunk.filter { $0.kind != .insert }.count
      let newCount = hunk.filter { $0.kind != .delete }.count
      out += "@@ -\(oldStart + (oldCount == 0 ? 0 : 1)),\(oldCount) +\(newStart + (newCount == 0 ? 0 : 1)),\(newCount) @@\n"
      for op in hunk {
        switch op.kind {
        case .same: out += " \(op.text)\n"
        case .delete: out += "-\(op.text)\n"
        case .insert: out += "+\(op.text)\n"
        }
      }
      i = stop
    }
    return out
  }

  /// Lines without their terminators; a final newline does not start another line.
  static func lines(_ text: String) -> [String] {
    var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if text.hasSuffix("\n") { parts.removeLast() }
    return parts
  }

  struct Op {
    enum Kind { case same, delete, insert }
    var kind: Kind
    var text: String
    /// 0-based line numbers in the old and new text.
    var oldLine: Int?
    var newLine: Int?
  }

  static func edits(_ a: [String], _ b: [String]) -> [Op] {
    var prefix = 0
    while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
    let am = Array(a[prefix..<(a.count - suffix)])
    let bm = Array(b[prefix..<(b.count - suffix)])
    var ops: [Op] = (0..<prefix).map { Op(kind: .same, text: a[$0], oldLine: $0, newLine: $0) }
    // LCS over the middle.
    let n = am.count, m = bm.count
    var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
    if n > 0 && m > 0 {
      for i in stride(from: n - 1, through: 0, by: -1) {
        for j in stride(from: m - 1, through: 0, by: -1) {
          table[i][j] = am[i] == bm[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
        }
      }
    }
    var i = 0, j = 0
    while i < n || j < m {
      if i < n, j < m, am[i] == bm[j] {
        ops.append(Op(kind: .same, text: am[i], oldLine: prefix + i, newLine: prefix + j))
        i += 1
        j += 1
      } else if i < n, j == m || table[i + 1][j] >= table[i][j + 1] {
        // Deletions before insertions, as diff -u prints them.
        ops.append(Op(kind: .delete, text: am[i], oldLine: prefix + i, newLine: nil))
        i += 1
      } else {
        ops.append(Op(kind: .insert, text: bm[j], oldLine: nil, newLine: prefix + j))
        j += 1
      }
    }
    for k in 0..<suffix {
      ops.append(Op(kind: .same, text: a[a.count - suffix + k], oldLine: a.count - suffix + k, newLine: b.count - suffix + k))
    }
    return ops
  }
}
