/// "Did you mean …?" for misspelled names.
public enum Suggestion {
  /// The candidate closest to `word`, if it is close enough to be a plausible typo.
  public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
    var best: (String, Int)?
    for candidate in candidates {
      let d = editDistance(word.lowercased(), candidate.lowercased())
      if d < (best?.1 ?? Int.max) { best = (candidate, d) }
    }
    guard let (name, distance) = best else { return nil }
    let limit = max(1, min(3, word.count / 3 + 1))
    return distance <= limit ? name : nil
  }

  /// ` (did you mean 'x'?)` or the empty string.
  public static func didYouMean(_ word: String, in candidates: some Sequence<String>) -> String {
    guard let s = closest(to: word, in: candidates) else { return "" }
    return " (did you mean '\(s)'?)"
  }

  /// Levenshtein distance with adjacent transpositions counted as one edit.
  public static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
          d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        }
      }
    }
    return d[a.count][b.count]
  }
}
