import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The OpenSSH client configuration files `ssh` would read, and where their relative `Include`s
/// point: the user's file (`~/.ssh/config`, or the one `-F` names), then the system's
/// (`/etc/ssh/ssh_config`, only when no `-F` file was given, as `ssh` does).
public struct SSHConfigFiles: Sendable, Equatable {
  public var userFile: String?
  public var systemFile: String?
  /// Relative `Include` paths in user files are relative to this directory (`~/.ssh`).
  public var userDirectory: String
  /// Relative `Include` paths in system files are relative to this directory (`/etc/ssh`).
  public var systemDirectory: String
  /// For `~` in user files' `Include` and in `IdentityFile`, and for `%d`.
  public var home: String
  /// For `Match localuser`, `%u`, and `Match user` when no user is set.
  public var localUser: String

  public init(
    home: String, localUser: String, userFile: String?, systemFile: String? = "/etc/ssh/ssh_config",
    userDirectory: String? = nil, systemDirectory: String = "/etc/ssh"
  ) {
    self.home = home
    self.localUser = localUser
    self.userFile = userFile
    self.systemFile = systemFile
    self.userDirectory = userDirectory ?? home + "/.ssh"
    self.systemDirectory = systemDirectory
  }
}

/// OpenSSH client configuration, read as `ssh` reads it (ssh_config(5)).
///
/// `Host` blocks (patterns with `*`, `?` and `!`, matched case-sensitively against the name as
/// given), `Match` blocks with `all`, `canonical`, `final`, `host`, `originalhost`, `user` and
/// `localuser` (comma-separated pattern lists; `host`/`originalhost` ignore case), `Include`
/// with globs (relative to `~/.ssh` in user files, `/etc/ssh` in system files; inside a block
/// only when the block applies), and a second pass when a `Match final` asks for it. For each
/// keyword the first value obtained wins; `IdentityFile` accumulates; `ProxyJump` and
/// `ProxyCommand` compete for one slot. `Match exec` is never run: its block is skipped with a
/// warning, and so is a block with a criterion this reader does not know.
///
/// Only the keywords dasprov acts on are kept: `HostName`, `User`, `Port`, `IdentityFile`,
/// `ProxyJump`, `ProxyCommand`. Values stay as written (as `ssh -G` prints them) except
/// `HostName`, whose `%h` is expanded; `expand(_:tokens:)` does the rest where they are used.
public enum SSHConfig {
  /// What the configuration says for one host.
  public struct Settings: Sendable, Equatable {
    /// `HostName`, with `%h` and `%%` expanded.
    public var hostName: String?
    public var user: String?
    public var port: Int?
    /// As written, in order, without duplicates.
    public var identityFiles: [String] = []
    /// `ProxyJump` as written; `"none"` when the config switched it off.
    public var proxyJump: String?
    /// `ProxyCommand` as written; `"none"` when the config switched it off.
    public var proxyCommand: String?
    /// `FILE:LINE: …` for what was skipped: `Match exec`, unknown criteria, bad values, deep
    /// `Include` nesting.
    public var warnings: [String] = []

    public init(hostName: String? = nil, user: String? = nil, port: Int? = nil) {
      self.hostName = hostName
      self.user = user
      self.port = port
    }

    /// Whether a proxy (jump or command) is already decided, so later ones are ignored.
    var proxyDecided: Bool { proxyJump != nil || proxyCommand != nil }
  }

  /// Reads the files for `host` (the name as given: the inventory's `ansible_host`).
  ///
  /// `given` holds what the command line (the inventory) already set: as in `ssh`, those
  /// values come first and win, and `Match user` sees that user.
  public static func resolve(host: String, given: Settings = Settings(), files: SSHConfigFiles) -> Settings {
    var reader = Reader(originalHost: host, files: files, settings: given, finalPass: false)
    reader.readAll()
    if reader.wantFinalPass {
      // ssh re-reads every file once more, matching against the name HostName gave.
      var final = Reader(
        originalHost: host, files: files, settings: reader.settings, finalPass: true,
        host: reader.currentHostName)
      final.settings.warnings = []
      final.readAll()
      var settings = final.settings
      settings.warnings = reader.settings.warnings + final.settings.warnings.filter { !reader.settings.warnings.contains($0) }
      return settings
    }
    return reader.settings
  }

  /// Expands `%` tokens (`%%` is a percent sign; unknown tokens stay as written).
  public static func expand(_ s: String, tokens: [Character: String]) -> String {
    var out = "", chars = Array(s), i = 0
    while i < chars.count {
      if chars[i] == "%", i + 1 < chars.count {
        let c = chars[i + 1]
        if c == "%" { out.append("%") } else if let v = tokens[c] { out += v } else { out += "%\(c)" }
        i += 2
      } else {
        out.append(chars[i])
        i += 1
      }
    }
    return out
  }

  // MARK: Patterns

  /// A `Host` line: some pattern matches and no negated one does (case-sensitive, as `ssh`
  /// compares the name as given).
  static func hostLineMatches(_ host: String, patterns: [String]) -> Bool {
    var positive = false
    for pattern in patterns {
      if pattern.hasPrefix("!") {
        if glob(String(pattern.dropFirst()), host) { return false }
      } else if glob(pattern, host) {
        positive = true
      }
    }
    return positive
  }

  /// A comma-separated pattern list of a `Match` criterion (`match_pattern_list` in ssh).
  static func listMatches(_ value: String, list: String, ignoringCase: Bool) -> Bool {
    let subject = ignoringCase ? value.lowercased() : value
    var positive = false
    for raw in list.split(separator: ",", omittingEmptySubsequences: true) {
      var pattern = ignoringCase ? raw.lowercased() : String(raw)
      let negated = pattern.hasPrefix("!")
      if negated { pattern.removeFirst() }
      if glob(pattern, subject) {
        if negated { return false }
        positive = true
      }
    }
    return positive
  }

  /// `*` and `?` wildcards over the whole text.
  static func glob(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern), t = Array(text)
    var pi = 0, ti = 0, starP = -1, starT = 0
    while ti < t.count {
      if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
        pi += 1
        ti += 1
      } else if pi < p.count, p[pi] == "*" {
        starP = pi
        starT = ti
        pi += 1
      } else if starP >= 0 {
        pi = starP + 1
        starT += 1
        ti = starT
      } else {
        return false
      }
    }
    while pi < p.count, p[pi] == "*" { pi += 1 }
    return pi == p.count
  }

  // MARK: Lines

  /// Splits a config line into words, as ssh does: `Keyword value`, `Keyword=value`,
  /// `Keyword = value`, double- or single-quoted words, backslash escapes, and `#` starting a
  /// comment at the beginning of a word.
  static func words<S: StringProtocol>(of line: S) -> [String] {
    split(line)?.words ?? []
  }

  /// The words of a line and, for keywords that take the rest of the line as it stands
  /// (`ProxyCommand`), that rest.
  static func split<S: StringProtocol>(_ line: S) -> (words: [String], rest: String)? {
    let trimmed = line.drop { $0 == " " || $0 == "\t" }
    guard !trimmed.isEmpty, trimmed.first != "#" else { return nil }
    let keyword = trimmed.prefix { $0 != " " && $0 != "\t" && $0 != "=" }
    var rest = trimmed.dropFirst(keyword.count).drop { $0 == " " || $0 == "\t" }
    if rest.first == "=" { rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" } }
    let raw = String(rest.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    var words = [String(keyword)], current = "", quote: Character?, hasWord = false, escaped = false
    for ch in rest {
      if escaped {
        current.append(ch)
        escaped = false
      } else if ch == "\\" {
        escaped = true
        hasWord = true
      } else if let q = quote {
        if ch == q { quote = nil } else { current.append(ch) }
      } else if ch == "\"" || ch == "'" {
        quote = ch
        hasWord = true
      } else if ch == " " || ch == "\t" || ch == "\r" {
        if hasWord {
          words.append(current)
          current = ""
          hasWord = false
        }
      } else if ch == "#" && !hasWord {
        break
      } else {
        current.append(ch)
        hasWord = true
      }
    }
    if hasWord { words.append(current) }
    return (words, raw)
  }
}

/// One pass over the configuration files for one host.
private struct Reader {
  let originalHost: String
  let files: SSHConfigFiles
  var settings: SSHConfig.Settings
  let finalPass: Bool
  /// What `Host` patterns match against: the name as given, or in the final pass the HostName.
  let host: String
  /// Set by a `Match final` seen in the first pass.
  var wantFinalPass = false

  init(originalHost: String, files: SSHConfigFiles, settings: SSHConfig.Settings, finalPass: Bool, host: String? = nil) {
    self.originalHost = originalHost
    self.files = files
    self.settings = settings
    self.finalPass = finalPass
    self.host = host ?? originalHost
  }

  /// The target name so far: HostName once one is set, else the name as given.
  var currentHostName: String { settings.hostName ?? host }

  static let maxIncludeDepth = 16

  mutating func readAll() {
    if let user = files.userFile { read(file: user, userFile: true, depth: 0) }
    if let system = files.systemFile { read(file: system, userFile: false, depth: 0) }
  }

  /// A missing or unreadable file reads as empty, as `ssh` treats a missing config.
  mutating func read(file: String, userFile: Bool, depth: Int) {
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return }
    var active = true
    var number = 0
    for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" }) {
      number += 1
      guard let (words, rest) = SSHConfig.split(line), let keyword = words.first?.lowercased() else { continue }
      let args = Array(words.dropFirst())
      let place = "\(Self.display(file, home: files.home)):\(number)"
      switch keyword {
      case "host":
        active = SSHConfig.hostLineMatches(host, patterns: args)
      case "match":
        active = match(args, at: place)
      case "include":
        guard active else { continue }
        guard depth < Self.maxIncludeDepth else {
          warn("\(place): Include nested more than \(Self.maxIncludeDepth) deep; not followed")
          continue
        }
        for pattern in args {
          for path in includePaths(pattern, userFile: userFile) {
            read(file: path, userFile: userFile, depth: depth + 1)
          }
        }
      default:
        if active, let value = args.first { apply(keyword, value, rest: rest, at: place) }
      }
    }
  }

  /// Files an `Include` argument names, in lexical order (`glob(3)`).
  func includePaths(_ pattern: String, userFile: Bool) -> [String] {
    var path = pattern
    if userFile, path == "~" || path.hasPrefix("~/") { path = files.home + path.dropFirst(1) }
    if !path.hasPrefix("/") { path = (userFile ? files.userDirectory : files.systemDirectory) + "/" + path }
    var result = glob_t()
    defer { globfree(&result) }
    guard glob(path, 0, nil, &result) == 0 else { return [] }
    return (0..<Int(result.gl_pathc)).compactMap { i in result.gl_pathv[i].map { String(cString: $0) } }
      .filter { !FileManager.default.isDirectory($0) }
  }

  /// Whether a `Match` line's criteria all hold.
  mutating func match(_ args: [String], at place: String) -> Bool {
    guard !args.isEmpty else {
      warn("\(place): Match without criteria; the block is skipped")
      return false
    }
    var i = 0
    var result = true
    while i < args.count {
      var criterion = args[i].lowercased()
      i += 1
      let negated = criterion.hasPrefix("!")
      if negated { criterion.removeFirst() }
      var holds: Bool
      switch criterion {
      case "all":
        holds = true
      case "canonical":
        holds = finalPass
      case "final":
        if !finalPass { wantFinalPass = true }
        holds = finalPass
      case "exec":
        warn("\(place): Match exec is not supported (dasprov runs no local commands from the SSH config); the block is skipped")
        return false
      case "host", "originalhost", "user", "localuser":
        guard i < args.count else {
          warn("\(place): Match \(criterion) needs an argument; the block is skipped")
          return false
        }
        let list = args[i]
        i += 1
        switch criterion {
        case "host": holds = SSHConfig.listMatches(currentHostName, list: list, ignoringCase: true)
        case "originalhost": holds = SSHConfig.listMatches(originalHost, list: list, ignoringCase: true)
        case "user": holds = SSHConfig.listMatches(settings.user ?? files.localUser, list: list, ignoringCase: false)
        default: holds = SSHConfig.listMatches(files.localUser, list: list, ignoringCase: false)
        }
      default:
        warn("\(place): Match \(criterion) is not supported; the block is skipped")
        return false
      }
      if negated { holds.toggle() }
      if !holds { result = false }
    }
    return result
  }

  mutating func apply(_ keyword: String, _ value: String, rest: String, at place: String) {
    switch keyword {
    case "hostname":
      if settings.hostName == nil {
        settings.hostName = SSHConfig.expand(value, tokens: ["h": originalHost])
      }
    case "user":
      if settings.user == nil { settings.user = value }
    case "port":
      guard settings.port == nil else { return }
      if let p = Int(value), (1...65535).contains(p) {
        settings.port = p
      } else {
        warn("\(place): Port '\(value)' is not a port number; ignored")
      }
    case "identityfile":
      if !settings.identityFiles.contains(value) { settings.identityFiles.append(value) }
    case "proxyjump":
      if !settings.proxyDecided { settings.proxyJump = value }
    case "proxycommand":
      // The command is the rest of the line, as ssh takes it.
      if !settings.proxyDecided { settings.proxyCommand = rest }
    default:
      break
    }
  }

  mutating func warn(_ message: String) {
    if !settings.warnings.contains(message) { settings.warnings.append(message) }
  }

  /// `~/…` for files under the home directory, as users know them.
  static func display(_ path: String, home: String) -> String {
    path.hasPrefix(home + "/") ? "~" + path.dropFirst(home.count) : path
  }
}

extension FileManager {
  fileprivate func isDirectory(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
  }
}
