/// "Did you mean …?" for misspelled names.
public enum Suggestion {
  /// The candidate closest to `word`, if it is close enough to be a plausible typo.
  ///
  /// Cheap enough to run on every undefined name, even when the error is swallowed (a default
  /// that needs `groups` where there are none): candidates whose length alone puts them out of
  /// reach are skipped, and ASCII names are compared as bytes.
  public static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
    let limit = max(1, min(3, word.count / 3 + 1))
    let w = Folded(word)
    var best: (String, Int)?
    for candidate in candidates {
      let c = Folded(candidate)
      // The distance is at least the difference in length: too far to be suggested, and too far
      // to beat a candidate that could be.
      guard abs(c.count - w.count) <= limit else { continue }
      let d = w.distance(to: c)
      if d < (best?.1 ?? Int.max) { best = (candidate, d) }
    }
    guard let (name, distance) = best else { return nil }
    return distance <= limit ? name : nil
  }

  /// ` (did you mean 'x'?)` or the empty string.
  public static func didYouMean(_ word: String, in candidates: some Sequence<String>) -> String {
    guard let s = closest(to: word, in: candidates) else { return "" }
    return " (did you mean '\(s)'?)"
  }

  /// Levenshtein distance with adjacent transpositions counted as one edit.
  public static func editDistance(_ a: String, _ b: String) -> Int { distance(Array(a), Array(b)) }

  /// A name lowercased: its bytes when it is ASCII, else its characters.
  private enum Folded {
    case ascii([UInt8])
    case characters([Character])

    init(_ s: String) {
      if s.utf8.allSatisfy({ $0 < 0x80 }) {
        self = .ascii(s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
      } else {
        self = .characters(Array(s.lowercased()))
      }
    }

    var count: Int {
      switch self {
      case .ascii(let b): return b.count
      case .characters(let c): return c.count
      }
    }

    func distance(to other: Folded) -> Int {
      switch (self, other) {
      case (.ascii(let a), .ascii(let b)): return Suggestion.distance(a, b)
      case (.characters(let a), .characters(let b)): return Suggestion.distance(a, b)
      case (.ascii(let a), .characters(let b)): return Suggestion.distance(a.map { Character(Unicode.Scalar($0)) }, b)
      case (.characters(let a), .ascii(let b)): return Suggestion.distance(a, b.map { Character(Unicode.Scalar($0)) })
      }
    }
  }

  /// The edit distance over three rolling rows.
  static func distance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var before = [Int](repeating: 0, count: b.count + 1)  // row i - 2
    var previous = Array(0...b.count)  // row i - 1
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d = min(d, before[j - 2] + 1) }
        current[j] = d
      }
      swap(&before, &previous)
      swap(&previous, &current)
    }
    return previous[b.count]
  }
}
