/// Python's `shlex.split(line, comments=True)`, which Ansible uses to cut a host line into the
/// host pattern and its `key=value` words.
///
/// POSIX mode with whitespace splitting: quotes group characters and disappear, a backslash
/// escapes the next character (inside double quotes only `\` and `"`), and `#` starts a
/// comment even in the middle of a word (`a=b#c` is `a=b`).
enum Shlex {
  struct Token: Equatable {
    var text: String
    /// Offset (in scalars) of the token's first character, quote included.
    var start: Int
    /// Offset one past its last character.
    var end: Int
  }

  enum Failure: Error, Equatable {
    /// Python: "No closing quotation". Carries the offset of the opening quote.
    case unclosedQuote(at: Int)
    /// Python: "No escaped character". Carries the offset of the backslash.
    case danglingEscape(at: Int)
  }

  static func split(_ line: [Unicode.Scalar]) throws(Failure) -> [Token] {
    var tokens: [Token] = []
    var i = 0
    let n = line.count
    while true {
      // Between tokens: skip whitespace; a `#` ends the line.
      while i < n, isSpace(line[i]) { i += 1 }
      if i >= n || line[i] == "#" { break }
      let start = i
      // UTF-8 bytes, turned into a String once: far cheaper than appending scalars.
      var text: [UInt8] = []
      var quoted = false
      word: while i < n {
        let c = line[i]
        if isSpace(c) { break word }
        if c == "#" {
          // Python reads the rest of the line as a comment and emits what it has so far.
          i = n
          break word
        }
        if c == "\\" {
          guard i + 1 < n else { throw .danglingEscape(at: i) }
          append(line[i + 1], to: &text)
          i += 2
          continue
        }
        if c == "'" || c == "\"" {
          quoted = true
          let open = i
          i += 1
          while true {
            guard i < n else { throw .unclosedQuote(at: open) }
            let q = line[i]
            if q == c { i += 1; break }
            if c == "\"", q == "\\" {
              guard i + 1 < n else { throw .danglingEscape(at: i) }
              let next = line[i + 1]
              if next != "\\" && next != "\"" { text.append(UInt8(ascii: "\\")) }
              append(next, to: &text)
              i += 2
              continue
            }
            append(q, to: &text)
            i += 1
          }
          continue
        }
        append(c, to: &text)
        i += 1
      }
      if !text.isEmpty || quoted {
        tokens.append(Token(text: String(decoding: text, as: UTF8.self), start: start, end: min(i, n)))
      }
      if i >= n { break }
    }
    return tokens
  }

  private static func append(_ c: Unicode.Scalar, to bytes: inout [UInt8]) {
    if c.isASCII {
      bytes.append(UInt8(c.value))
    } else {
      bytes.append(contentsOf: UTF8.encode(c)!)
    }
  }

  private static func isSpace(_ c: Unicode.Scalar) -> Bool {
    c == " " || c == "\t" || c == "\r" || c == "\n"
  }
}
