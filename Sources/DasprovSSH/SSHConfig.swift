import Foundation

/// A minimal reader for OpenSSH client configuration (`~/.ssh/config`).
///
/// Only what dasprov needs to reach hosts the way `ssh` would: `Host` blocks with `*`/`?`
/// patterns and `!` negation, and `HostName`, `User`, `Port`, `IdentityFile`. As in OpenSSH, the
/// first value found for a keyword wins, while `IdentityFile` accumulates. `Match` blocks and
/// `Include` are not supported; their lines are skipped rather than misapplied.
public struct SSHConfig: Sendable, Equatable {
  public struct Block: Sendable, Equatable {
    /// The `Host` patterns; `["*"]` for lines before the first `Host`.
    public var patterns: [String]
    /// Keyword (lowercased) and its value, in file order.
    public var settings: [(String, String)]

    public static func == (a: Block, b: Block) -> Bool {
      a.patterns == b.patterns && a.settings.map(\.0) == b.settings.map(\.0)
        && a.settings.map(\.1) == b.settings.map(\.1)
    }
  }

  /// What the config says for one host.
  public struct Match: Sendable, Equatable {
    public var hostName: String?
    public var user: String?
    public var port: Int?
    public var identityFiles: [String] = []
  }

  public var blocks: [Block]

  public init(parsing text: String) {
    var blocks: [Block] = [Block(patterns: ["*"], settings: [])]
    var skipping = false
    for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
      let words = Self.words(of: rawLine)
      guard let keyword = words.first?.lowercased() else { continue }
      let args = Array(words.dropFirst())
      switch keyword {
      case "host":
        blocks.append(Block(patterns: args, settings: []))
        skipping = false
      case "match":
        skipping = true
      default:
        if !skipping, let value = args.first {
          blocks[blocks.count - 1].settings.append((keyword, value))
        }
      }
    }
    self.blocks = blocks
  }

  /// The config at `path`, or `nil` when there is none or it cannot be read.
  public static func load(path: String) -> SSHConfig? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    return SSHConfig(parsing: text)
  }

  /// The settings that apply to `host`, with `~`, `%d`, `%h`, `%u` and `%%` expanded in
  /// `IdentityFile` (`%r` is left for the caller, who knows the final user).
  public func resolve(host: String, home: String, localUser: String) -> Match {
    var match = Match()
    for block in blocks where Self.matches(host: host, patterns: block.patterns) {
      for (key, value) in block.settings {
        switch key {
        case "hostname": if match.hostName == nil { match.hostName = value.replacingOccurrences(of: "%h", with: host) }
        case "user": if match.user == nil { match.user = value }
        case "port": if match.port == nil { match.port = Int(value) }
        case "identityfile":
          var path = value
          if path == "~" || path.hasPrefix("~/") { path = home + path.dropFirst(1) }
          path = Self.expandTokens(path, ["d": home, "h": match.hostName ?? host, "u": localUser])
          if !match.identityFiles.contains(path) { match.identityFiles.append(path) }
        default: break
        }
      }
    }
    return match
  }

  /// OpenSSH's rule: a host matches a pattern list when some pattern matches and no negated
  /// (`!`) pattern does.
  static func matches(host: String, patterns: [String]) -> Bool {
    var positive = false
    for pattern in patterns.flatMap({ $0.split(separator: ",").map(String.init) }) {
      if pattern.hasPrefix("!") {
        if glob(String(pattern.dropFirst()), host.lowercased()) { return false }
      } else if glob(pattern, host.lowercased()) {
        positive = true
      }
    }
    return positive
  }

  /// `*` and `?` wildcards, case-insensitive as OpenSSH's `match_pattern` is for host names.
  static func glob(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern.lowercased()), t = Array(text)
    var pi = 0, ti = 0, starP = -1, starT = 0
    while ti < t.count {
      if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
        pi += 1; ti += 1
      } else if pi < p.count, p[pi] == "*" {
        starP = pi; starT = ti; pi += 1
      } else if starP >= 0 {
        pi = starP + 1; starT += 1; ti = starT
      } else {
        return false
      }
    }
    while pi < p.count, p[pi] == "*" { pi += 1 }
    return pi == p.count
  }

  private static func expandTokens(_ s: String, _ values: [Character: String]) -> String {
    var out = "", chars = Array(s), i = 0
    while i < chars.count {
      if chars[i] == "%", i + 1 < chars.count {
        let c = chars[i + 1]
        if c == "%" { out.append("%") } else if let v = values[c] { out += v } else { out += "%\(c)" }
        i += 2
      } else {
        out.append(chars[i]); i += 1
      }
    }
    return out
  }

  /// Splits a config line into words: `Keyword value`, `Keyword=value`, `Keyword = value`,
  /// `"quoted words"`, and `#` comments.
  static func words<S: StringProtocol>(of line: S) -> [String] {
    let trimmed = line.drop { $0 == " " || $0 == "\t" }
    guard !trimmed.isEmpty, trimmed.first != "#" else { return [] }
    let keyword = trimmed.prefix { $0 != " " && $0 != "\t" && $0 != "=" }
    var rest = trimmed.dropFirst(keyword.count).drop { $0 == " " || $0 == "\t" }
    if rest.first == "=" { rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" } }
    var words = [String(keyword)], current = "", inQuotes = false, hasWord = false
    for ch in rest {
      if inQuotes {
        if ch == "\"" { inQuotes = false } else { current.append(ch) }
      } else if ch == "\"" {
        inQuotes = true; hasWord = true
      } else if ch == " " || ch == "\t" {
        if hasWord { words.append(current); current = ""; hasWord = false }
      } else if ch == "#" && !hasWord {
        break
      } else {
        current.append(ch); hasWord = true
      }
    }
    if hasWord { words.append(current) }
    return words
  }
}
