import Foundation

/// The host word of an INI host line: `name`, `name:port`, `[v6]:port`, `das[01:08].x`.
///
/// Mirrors Ansible's `parse_address(pattern, allow_ranges=True)` followed by
/// `expand_hostname_range`: when the word is not a recognisable address, Ansible keeps it whole
/// (colon included) as the host name, and still expands any `[a:b]` in it.
enum HostWord {
  struct Expanded {
    var names: [String]
    var port: String?
  }

  struct RangeError: Error, Equatable {
    var message: String
  }

  /// Ansible would happily build millions of hosts from a typo; dasprov stops here.
  static let maxHostsPerLine = 1_000_000

  static func expand(_ word: String) throws(RangeError) -> Expanded {
    // Without ':' there is no port and without '[' no range: the word is the name either way.
    if !word.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "[") }) {
      return Expanded(names: [word], port: nil)
    }
    let (pattern, port) = parseAddress(word) ?? (word, nil)
    guard pattern.contains("[") else { return Expanded(names: [pattern], port: port) }
    var names: [String] = []
    try expandRanges(pattern, into: &names)
    return Expanded(names: names, port: port)
  }

  // MARK: - parse_address

  /// `(host, port)` when `address` is an IPv4/IPv6 address or host name (ranges allowed) with an
  /// optional port; `nil` when Ansible's parser would raise.
  static func parseAddress(_ address: String) -> (String, String?)? {
    var address = Array(address.unicodeScalars)
    var port: String?
    // Ansible tries both port forms in turn, and the second sees what the first left.
    if let (host, p) = bracketedHostPort(address) { address = host; port = p }
    if let (host, p) = hostPort(address) { address = host; port = p }
    guard !address.isEmpty, isIPv4(address) || isIPv6(address) || isHostname(address) else {
      return nil
    }
    return (String(String.UnicodeScalarView(address)), port)
  }

  /// `^\[(.+)\]:([0-9]+)$`
  private static func bracketedHostPort(_ s: [Unicode.Scalar]) -> ([Unicode.Scalar], String)? {
    guard s.first == "[" else { return nil }
    var k = s.count
    while k > 0, isASCIIDigit(s[k - 1]) { k -= 1 }
    guard k < s.count, k >= 4, s[k - 1] == ":", s[k - 2] == "]" else { return nil }
    let inner = Array(s[1..<(k - 2)])
    guard !inner.isEmpty, !inner.contains("\n") else { return nil }
    return (inner, String(String.UnicodeScalarView(s[k...])))
  }

  /// `^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`
  private static func hostPort(_ s: [Unicode.Scalar]) -> ([Unicode.Scalar], String)? {
    var i = 0
    while i < s.count {
      let c = s[i]
      if c == ":" { break }
      if c == "]" { return nil }
      if c == "[" {
        guard let close = s[(i + 1)...].firstIndex(of: "]") else { return nil }
        i = close + 1
        continue
      }
      i += 1
    }
    guard i < s.count, i + 1 < s.count, s[(i + 1)...].allSatisfy(isASCIIDigit) else { return nil }
    return (Array(s[..<i]), String(String.UnicodeScalarView(s[(i + 1)...])))
  }

  /// Four dot-separated parts, each 0..255 or a numeric `[a:b(:c)]` range.
  private static func isIPv4(_ s: [Unicode.Scalar]) -> Bool {
    let parts = s.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return false }
    return parts.allSatisfy { part in
      if part.first == "[" { return isNumericRange(Array(part), hex: false) }
      guard (1...3).contains(part.count), part.allSatisfy(isASCIIDigit) else { return false }
      let d = Array(part)
      if d.count < 3 || d[0] == "0" || d[0] == "1" { return true }
      guard d[0] == "2" else { return false }
      return d[1] <= "4" || (d[1] == "5" && d[2] <= "5")
    }
  }

  /// `\[[0-9]+:[0-9]+(:[0-9]+)?\]`, or the hexadecimal form used in IPv6 addresses.
  private static func isNumericRange(_ s: [Unicode.Scalar], hex: Bool) -> Bool {
    guard s.count >= 5, s.first == "[", s.last == "]" else { return false }
    let parts = s[1..<(s.count - 1)].split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2 || parts.count == 3 else { return false }
    for (n, part) in parts.enumerated() {
      guard !part.isEmpty else { return false }
      let ok = n < 2 && hex ? part.allSatisfy(isHexDigit) : part.allSatisfy(isASCIIDigit)
      if !ok { return false }
    }
    return true
  }

  /// Ansible's IPv6 expression (ranges allowed in place of each group). Rare, so a regex.
  private static let ipv6: NSRegularExpression = {
    let range = #"\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]"#
    let c = "(?:[0-9a-f]{1,4}|\(range))"
    let v4 = "(?:\(c)\\.){3}\(c)"
    let alternatives = [
      "(?:\(c):){7}\(c)",
      "(?:\(c):){1,6}:",
      "(?:\(c):)(?::\(c)){1,6}",
      "(?:\(c):){2}(?::\(c)){1,5}",
      "(?:\(c):){3}(?::\(c)){1,4}",
      "(?:\(c):){4}(?::\(c)){1,3}",
      "(?:\(c):){5}(?::\(c)){1,2}",
      "(?:\(c):){6}(?::\(c))",
      ":(?::\(c)){1,6}",
      "\(c)?::",
      "(?:0:){6}\(v4)",
      "::(?:ffff:)?\(v4)",
      "(?:0:){5}ffff:\(v4)",
    ]
    let pattern = "^(" + alternatives.joined(separator: "|") + ")$"
    return try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
  }()

  private static func isIPv6(_ s: [Unicode.Scalar]) -> Bool {
    guard s.contains(":") else { return false }
    let text = String(String.UnicodeScalarView(s))
    let range = NSRange(text.startIndex..., in: text)
    return ipv6.firstMatch(in: text, options: [], range: range) != nil
  }

  /// Dot-separated labels of word characters, `-` and `[a:z]`/`[1:9]` ranges, each starting with
  /// a word character or range and not ending in `-` or `_`.
  private static func isHostname(_ s: [Unicode.Scalar]) -> Bool {
    var i = 0
    while true {
      // One label.
      var units = 0
      var last: Unicode.Scalar = "."
      while i < s.count, s[i] != "." {
        let c = s[i]
        if c == "[" {
          guard let close = s[i...].firstIndex(of: "]"),
            isAlphanumericRange(Array(s[i...close]))
          else { return false }
          i = close + 1
          last = "]"
        } else if isWordChar(c) || (c == "-" && units > 0) {
          i += 1
          last = c
        } else {
          return false
        }
        units += 1
      }
      if units == 0 || last == "-" || last == "_" { return false }
      if i == s.count { return true }
      i += 1  // the dot; a trailing dot leaves an empty label, which fails above
    }
  }

  /// `\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`, case-insensitive.
  private static func isAlphanumericRange(_ s: [Unicode.Scalar]) -> Bool {
    if isNumericRange(s, hex: false) { return true }
    guard s.count >= 5, s.first == "[", s.last == "]" else { return false }
    let parts = s[1..<(s.count - 1)].split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2 || parts.count == 3 else { return false }
    func letter(_ p: ArraySlice<Unicode.Scalar>) -> Bool {
      p.count == 1 && p.first!.isASCII && p.first!.properties.isAlphabetic
    }
    guard letter(parts[0]), letter(parts[1]) else { return false }
    return parts.count == 2 || (!parts[2].isEmpty && parts[2].allSatisfy(isASCIIDigit))
  }

  /// Python's `\w` in a str pattern: letters, numbers and `_`.
  static func isWordChar(_ c: Unicode.Scalar) -> Bool {
    if c.isASCII {
      return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_"
    }
    switch c.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
      .decimalNumber, .letterNumber, .otherNumber:
      return true
    default:
      return c.properties.numericType != nil
    }
  }

  private static func isASCIIDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

  private static func isHexDigit(_ c: Unicode.Scalar) -> Bool {
    isASCIIDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F")
  }

  // MARK: - expand_hostname_range

  private static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

  /// Expands the first `[begin:end(:step)]`, then recurses for any later ones.
  private static func expandRanges(_ line: String, into names: inout [String])
    throws(RangeError)
  {
    // Ansible swaps the first `[` and then the first `]` for `|` and splits on `|`.
    var chars = Array(line)
    if let open = chars.firstIndex(of: "[") { chars[open] = "|" }
    if let close = chars.firstIndex(of: "]") { chars[close] = "|" }
    let parts = chars.split(separator: "|", omittingEmptySubsequences: false).map { String($0) }
    guard parts.count == 3 else {
      if !line.contains("]") { throw RangeError(message: "host range is missing its closing ']'") }
      throw RangeError(message: "malformed host range in '\(line)'")
    }
    let (head, nrange, tail) = (parts[0], parts[1], parts[2])
    let bounds = nrange.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard bounds.count == 2 || bounds.count == 3 else {
      throw RangeError(
        message: "bad host range '[\(nrange)]': expected [begin:end] or [begin:end:step]")
    }
    let beg = bounds[0].isEmpty ? "0" : bounds[0]
    let end = bounds[1]
    let step = bounds.count == 3 ? bounds[2] : "1"
    guard !end.isEmpty else {
      throw RangeError(message: "bad host range '[\(nrange)]': the end value is missing")
    }
    var width: Int?
    if beg.count > 1, beg.unicodeScalars.first == "0" {
      guard beg.unicodeScalars.count == end.unicodeScalars.count else {
        throw RangeError(
          message:
            "bad host range '[\(nrange)]': a zero-padded begin needs an end of the same width")
      }
      width = beg.unicodeScalars.count
    }

    var pieces: [String] = []
    if let iBeg = letterIndex(beg), let iEnd = letterIndex(end) {
      guard iBeg <= iEnd else {
        throw RangeError(message: "bad host range '[\(nrange)]': begin must not be after end")
      }
      if let stepValue = pythonInt(step), stepValue != 0 {
        pieces = pythonSlice(letters, from: iBeg, to: iEnd + 1, step: stepValue).map {
          zfill(String($0), width)
        }
      } else {
        // Ansible falls back to numbers, and int() of a letter fails.
        throw RangeError(message: "bad host range '[\(nrange)]': '\(step)' is not a valid step")
      }
    } else {
      guard let b = pythonInt(beg), let e = pythonInt(end), let st = pythonInt(step) else {
        let bad = [beg, end, step].first { pythonInt($0) == nil } ?? beg
        throw RangeError(
          message:
            "bad host range '[\(nrange)]': '\(bad)' is not a number, and letter ranges take single letters like [a:f]"
        )
      }
      guard st != 0 else {
        throw RangeError(message: "bad host range '[\(nrange)]': the step must not be zero")
      }
      // Python's len(range(b, e + 1, st)).
      let stop = e + 1
      let count =
        st > 0
        ? (stop > b ? (stop - b + st - 1) / st : 0)
        : (b > stop ? (b - stop - st - 1) / -st : 0)
      guard count <= maxHostsPerLine, names.count + count <= maxHostsPerLine else {
        throw RangeError(
          message: "host range '[\(nrange)]' expands to more than \(maxHostsPerLine) hosts")
      }
      pieces.reserveCapacity(count)
      var v = b
      while st > 0 ? v < e + 1 : v > e + 1 {
        pieces.append(zfill(String(v), width))
        v += st
      }
    }
    for piece in pieces {
      let name = head + piece + tail
      if name.contains("[") {
        try expandRanges(name, into: &names)
      } else {
        names.append(name)
      }
    }
  }

  /// Python `string.ascii_letters.index(s)`: a substring search, so `ab` is found too.
  private static func letterIndex(_ s: String) -> Int? {
    let needle = Array(s)
    guard !needle.isEmpty, needle.count <= letters.count else { return nil }
    for start in 0...(letters.count - needle.count)
    where Array(letters[start..<(start + needle.count)]) == needle {
      return start
    }
    return nil
  }

  private static func pythonSlice<T>(_ a: [T], from: Int, to: Int, step: Int) -> [T] {
    var out: [T] = []
    if step > 0 {
      var i = max(0, from)
      while i < min(to, a.count) { out.append(a[i]); i += step }
    } else {
      var i = min(from, a.count - 1)
      while i > to, i >= 0 { out.append(a[i]); i += step }
    }
    return out
  }

  /// Python `int(text)`: surrounding blanks, a sign, digits with single `_` between them.
  static func pythonInt(_ text: String) -> Int? {
    let t = text.trimmingCharacters(in: .whitespaces)
    var scalars = Substring(t)
    var negative = false
    if let f = scalars.first, f == "+" || f == "-" {
      negative = f == "-"
      scalars = scalars.dropFirst()
    }
    guard let first = scalars.first, first != "_", scalars.last != "_", !scalars.contains("__")
    else { return nil }
    let digits = scalars.replacingOccurrences(of: "_", with: "")
    guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(digits) else { return nil }
    return negative ? -v : v
  }

  /// Python `str.zfill(width)`: zeros after any sign.
  private static func zfill(_ s: String, _ width: Int?) -> String {
    guard let width, s.count < width else { return s }
    var body = s
    var sign = ""
    if let f = body.first, f == "-" || f == "+" {
      sign = String(f)
      body.removeFirst()
    }
    return sign + String(repeating: "0", count: width - s.count) + body
  }
}
