/// Where the names are on a line of an inventory or vars file, so the secret mask leaves them
/// alone when the line is quoted in a diagnostic: with the secret `web`, the line
/// `w1 ansible_password=web` prints as `w1 ansible_password=********`, and `[web]` as `[web]`.
///
/// Rough on purpose: anything not found to be a name is masked, so an odd line shows too little,
/// never a secret.
enum NameSpans {
  /// An INI line: the inside of a section header; otherwise the first word (a host, a child
  /// group, or the key of a `[g:vars]` line) and the key of every `key=value`.
  @Sendable static func ini(_ line: String) -> [Range<String.Index>] {
    let trimmed = line.drop { $0 == " " || $0 == "\t" }
    if trimmed.first == "[", let close = trimmed.firstIndex(of: "]") {
      return [trimmed.index(after: trimmed.startIndex)..<close]
    }
    var out: [Range<String.Index>] = []
    for (n, word) in words(trimmed).enumerated() {
      if let eq = word.firstIndex(of: "=") {
        out.append(word.startIndex..<eq)
      } else if n == 0 {
        out.append(word.startIndex..<word.endIndex)
      }
    }
    return out
  }

  /// A YAML or JSON line: the key before `: ` (after indentation, `- ` and quotes).
  @Sendable static func vars(_ line: String) -> [Range<String.Index>] {
    var rest = line[...]
    while let first = rest.first, first == " " || first == "\t" || first == "-" || first == "{" || first == "," {
      rest = rest.dropFirst()
    }
    guard let colon = rest.firstIndex(of: ":") else { return [] }
    let after = rest.index(after: colon)
    guard after == rest.endIndex || rest[after] == " " || rest[after] == "\t" else { return [] }
    return [rest.startIndex..<colon]
  }

  /// Blank-separated words, a quoted part (as shlex reads it) staying in its word.
  private static func words(_ text: Substring) -> [Substring] {
    var out: [Substring] = []
    var start: String.Index?
    var quote: Character?
    var i = text.startIndex
    while i < text.endIndex {
      let c = text[i]
      if let q = quote {
        if c == q { quote = nil }
      } else if c == " " || c == "\t" {
        if let s = start { out.append(text[s..<i]) }
        start = nil
      } else {
        if start == nil { start = i }
        if c == "\"" || c == "'" { quote = c }
        if c == "#" && start == i { break }
      }
      i = text.index(after: i)
    }
    if let s = start { out.append(text[s..<text.endIndex]) }
    return out
  }
}
