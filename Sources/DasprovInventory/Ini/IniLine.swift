import DasprovCore

/// One logical line: `start..<end` of the file's scalars, with column arithmetic for
/// diagnostics (columns count characters from `lineStart`, the start of the physical line).
struct Line {
  let scalars: [Unicode.Scalar]
  let lineStart: Int
  var start: Int
  var end: Int
  let number: Int
  let file: String

  init(scalars: [Unicode.Scalar], lineStart: Int, start: Int, end: Int, number: Int, file: String) {
    self.scalars = scalars
    self.lineStart = lineStart
    self.start = start
    self.end = end
    self.number = number
    self.file = file
  }

  var count: Int { end - start }
  var first: Unicode.Scalar? { start < end ? scalars[start] : nil }
  var last: Unicode.Scalar? { start < end ? scalars[end - 1] : nil }
  var text: String { String(String.UnicodeScalarView(scalars[start..<end])) }

  func contains(_ c: Unicode.Scalar) -> Bool { scalars[start..<end].contains(c) }

  /// Offset of `c` relative to `start`.
  func firstIndex(of c: Unicode.Scalar) -> Int? {
    scalars[start..<end].firstIndex(of: c).map { $0 - start }
  }

  /// Python's `str.strip()`: Unicode whitespace at both ends.
  func stripped() -> Line {
    var copy = self
    while copy.start < copy.end, Self.isPythonSpace(scalars[copy.start]) { copy.start += 1 }
    while copy.end > copy.start, Self.isPythonSpace(scalars[copy.end - 1]) { copy.end -= 1 }
    return copy
  }

  static func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0: return true
    default: return c.value > 0xFF && c.properties.isWhitespace
    }
  }

  /// The source range of `length` scalars at `offset` from `start`, in the character columns
  /// that `SourceLocation` uses.
  func range(_ offset: Int, _ length: Int) -> SourceRange {
    let from = start + offset
    let to = min(end, from + max(1, length))
    let column = Self.characterCount(scalars, lineStart, from) + 1
    let width = Self.characterCount(scalars, from, to)
    return SourceRange(file: file, line: number, column: column, length: max(1, width))
  }

  private static func characterCount(_ s: [Unicode.Scalar], _ a: Int, _ b: Int) -> Int {
    guard a < b else { return 0 }
    if s[a..<b].allSatisfy({ $0.isASCII }) { return b - a }
    return String(String.UnicodeScalarView(s[a..<b])).count
  }
}

/// `[name]`, `[name:kind]`, then blanks and an optional `# comment` (Ansible's section regex).
struct SectionHeader {
  var name: String
  var kind: String?
  /// Offset of the kind within the line, for carets.
  var kindOffset: Int

  static func parse(_ line: Line) -> SectionHeader? {
    let s = Array(line.scalars[line.start..<line.end])
    guard s.first == "[" else { return nil }
    var i = 1
    while i < s.count, s[i] != ":", s[i] != "]", !Line.isPythonSpace(s[i]) { i += 1 }
    guard i > 1, i < s.count else { return nil }
    let name = String(String.UnicodeScalarView(s[1..<i]))
    var kind: String?
    var kindOffset = 0
    if s[i] == ":" {
      let k = i + 1
      i = k
      while i < s.count, HostWord.isWordChar(s[i]) { i += 1 }
      guard i > k else { return nil }
      kind = String(String.UnicodeScalarView(s[k..<i]))
      kindOffset = k
    }
    guard i < s.count, s[i] == "]" else { return nil }
    i += 1
    while i < s.count, Line.isPythonSpace(s[i]) { i += 1 }
    guard i == s.count || s[i] == "#" else { return nil }
    return SectionHeader(name: name, kind: kind, kindOffset: kindOffset)
  }
}

extension String {
  /// Python's `str.strip()`.
  func trimmingPythonWhitespace() -> String {
    let s = Array(unicodeScalars)
    var a = 0
    var b = s.count
    while a < b, Line.isPythonSpace(s[a]) { a += 1 }
    while b > a, Line.isPythonSpace(s[b - 1]) { b -= 1 }
    if a == 0 && b == s.count { return self }
    return String(String.UnicodeScalarView(s[a..<b]))
  }
}
