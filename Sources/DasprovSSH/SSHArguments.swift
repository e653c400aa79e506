import Foundation

/// One hop of a jump chain, as OpenSSH's `ProxyJump` and `-J` write it: `[user@]host[:port]`
/// or `ssh://[user@]host[:port]`, IPv6 addresses in brackets.
public struct JumpHost: Sendable, Hashable, CustomStringConvertible {
  public var user: String?
  public var host: String
  public var port: Int?
  /// Identity files for this hop alone (a ProxyCommand's `ssh -i KEY`).
  public var identityFiles: [String]

  public init(user: String? = nil, host: String, port: Int? = nil, identityFiles: [String] = []) {
    self.user = user
    self.host = host
    self.port = port
    self.identityFiles = identityFiles
  }

  public var description: String {
    let h = host.contains(":") ? "[\(host)]" : host
    return (user.map { "\($0)@" } ?? "") + h + (port.map { ":\($0)" } ?? "")
  }

  /// A comma-separated chain, first hop first; `none` is no chain.
  public static func chain(_ text: String) throws(SSHError) -> [JumpHost] {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if trimmed.lowercased() == "none" { return [] }
    var hops: [JumpHost] = []
    for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
      hops.append(try hop(String(part)))
    }
    return hops
  }

  static func hop(_ raw: String) throws(SSHError) -> JumpHost {
    var text = raw.trimmingCharacters(in: .whitespaces)
    let bad = SSHError(.invalidArgument, host: "", "'\(raw)' is not a jump host ([user@]host[:port])")
    if text.lowercased().hasPrefix("ssh://") { text.removeFirst(6) }
    if text.hasSuffix("/") { text.removeLast() }
    var user: String?
    if let at = text.lastIndex(of: "@") {
      user = String(text[..<at])
      text = String(text[text.index(after: at)...])
      if user!.isEmpty { throw bad }
    }
    var host = text
    var port: Int?
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]") else { throw bad }
      host = String(text[text.index(after: text.startIndex)..<close])
      let after = text[text.index(after: close)...]
      if !after.isEmpty {
        guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { throw bad }
        port = p
      }
    } else if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
      host = String(text[..<colon])
      guard let p = Int(text[text.index(after: colon)...]) else { throw bad }
      port = p
    }
    guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else { throw bad }
    if let port, !(1...65535).contains(port) { throw bad }
    return JumpHost(user: user, host: host, port: port)
  }

  /// Ansible's FAQ idiom `ssh -W %h:%p [-q] [user@]bastion` (with `-p`, `-l`, `-i`, `-J`,
  /// `-o Port|User|IdentityFile`, and `-q`, `-v`, `-T`, `-C`, `-4`, `-6`, `-N` taken as
  /// harmless) as the jump chain it means; `nil` for any other command. `ignored` receives
  /// the `-o` options that do not apply to a jump.
  static func fromProxyCommand(_ command: String, ignored: inout [String]) -> [JumpHost]? {
    guard var argv = try? SSHCommandLine.shellWords(command), !argv.isEmpty else { return nil }
    if argv.first == "exec" { argv.removeFirst() }
    guard let program = argv.first, program == "ssh" || program.hasSuffix("/ssh") else { return nil }
    var line = SSHCommandLine()
    var target: String?
    var unsupported = false
    var positional: [String] = []
    do throws(SSHError) {
      try line.parseArgv(Array(argv.dropFirst())) { flag, value in
        switch flag {
        case "W": target = value
        case "q", "v", "T", "C", "4", "6", "N": break
        default: unsupported = true
        }
        return true
      } positional: { positional.append($0) }
    } catch {
      return nil
    }
    guard !unsupported, let target, ["%h:%p", "[%h]:%p"].contains(target), positional.count == 1,
      line.proxyCommand == nil, line.configFile == nil
    else { return nil }
    guard var dest = try? hop(positional[0]) else { return nil }
    if dest.user == nil { dest.user = line.user }
    if dest.port == nil { dest.port = line.port }
    dest.identityFiles = line.identityFiles
    ignored += line.ignored
    // The jump host is checked and timed like the target; these would differ in ssh.
    if line.hostKeyPolicy != nil { ignored.append("StrictHostKeyChecking") }
    if line.knownHostsFile != nil { ignored.append("UserKnownHostsFile") }
    if line.connectTimeoutSeconds != nil { ignored.append("ConnectTimeout") }
    if line.keepaliveInterval != nil { ignored.append("ServerAliveInterval") }
    if line.identitiesOnly != nil { ignored.append("IdentitiesOnly") }
    let before = (try? line.proxyJump.map { (raw) throws(SSHError) in try chain(raw) }) ?? nil
    guard line.proxyJump == nil || before != nil else { return nil }
    return (before ?? []) + [dest]
  }
}

/// What an `ssh` command line says: Ansible's `ansible_ssh_common_args` and
/// `ansible_ssh_extra_args`, split as Python's `shlex.split` splits them (Ansible does the same
/// before handing them to `ssh`). For each option the first value wins, as in `ssh`.
///
/// Applied: `-o` `Port`, `User`, `IdentityFile`, `StrictHostKeyChecking`, `UserKnownHostsFile`,
/// `ConnectTimeout`, `ServerAliveInterval`, `IdentitiesOnly`, `ProxyJump`, `ProxyCommand`
/// (the `ssh -W %h:%p` idiom only); `-p`, `-l`, `-i`, `-J`, `-F`. Everything else lands in
/// `ignored`, as written, so the caller can name it.
public struct SSHCommandLine: Sendable, Equatable {
  public var port: Int?
  public var user: String?
  public var identityFiles: [String] = []
  public var hostKeyPolicy: HostKeyPolicy?
  public var knownHostsFile: String?
  public var connectTimeoutSeconds: Int?
  public var keepaliveInterval: Int?
  public var identitiesOnly: Bool?
  /// `-F FILE`: the one configuration file ssh would read.
  public var configFile: String?
  /// `-J` or `-o ProxyJump`, as written (`none` included); competes with `proxyCommand`.
  public var proxyJump: String?
  public var proxyCommand: String?
  /// Options and arguments given but not applied, as written (`ControlMaster=auto`, `-C`).
  public var ignored: [String] = []

  public init() {}

  /// Adds what `text` says; values already set stay (first wins).
  public mutating func parse(_ text: String) throws(SSHError) {
    var words: [String] = []
    try parseArgv(try Self.shellWords(text), other: { _, _ in false }, positional: { words.append($0) })
    ignored += words
  }

  /// The options ssh's getopt takes an argument for (OpenSSH 9).
  static let optionsWithArgument: Set<Character> = [
    "b", "c", "D", "E", "e", "F", "I", "i", "J", "L", "l", "m", "O", "o", "P", "p", "Q", "R", "S", "W", "w", "B",
  ]

  /// getopt-style: grouped flags (`-tt`), attached values (`-p2222`, `-oPort=2222`). Flags
  /// this type does not apply go to `other`; when it declines one too, it lands in `ignored`.
  mutating func parseArgv(
    _ argv: [String], other: (Character, String?) -> Bool, positional: (String) -> Void
  ) throws(SSHError) {
    var i = 0
    while i < argv.count {
      let word = argv[i]
      i += 1
      guard word.hasPrefix("-"), word.count > 1 else {
        positional(word)
        continue
      }
      if word == "--" {
        argv[i...].forEach(positional)
        return
      }
      var chars = Array(word.dropFirst())[...]
      while let flag = chars.popFirst() {
        var value: String?
        if Self.optionsWithArgument.contains(flag) {
          if !chars.isEmpty {
            value = String(chars)
            chars = []
          } else if i < argv.count {
            value = argv[i]
            i += 1
          } else {
            throw SSHError(.invalidArgument, host: "", "ssh option -\(flag) needs a value")
          }
        }
        if try !apply(flag, value), !other(flag, value) {
          ignored.append("-\(flag)" + (value.map { " \($0)" } ?? ""))
        }
      }
    }
  }

  /// Applies one flag; false when it is not one this type knows.
  private mutating func apply(_ flag: Character, _ value: String?) throws(SSHError) -> Bool {
    guard let value else { return false }
    switch flag {
    case "p":
      if port == nil { port = try Self.number(value, "port", range: 1...65535) }
    case "l":
      if user == nil { user = value }
    case "i":
      if !identityFiles.contains(value) { identityFiles.append(value) }
    case "J":
      if proxyJump == nil && proxyCommand == nil { proxyJump = value }
    case "F":
      if configFile == nil { configFile = value }
    case "o":
      try option(value)
    default:
      return false
    }
    return true
  }

  /// One `-o` option: `Key=Value`, `Key Value` or `Key = Value`.
  private mutating func option(_ text: String) throws(SSHError) {
    guard let (words, rest) = SSHConfig.split(text), let key = words.first, words.count >= 2 else {
      throw SSHError(.invalidArgument, host: "", "ssh option -o '\(text)' has no value")
    }
    let value = words[1]
    switch key.lowercased() {
    case "port":
      if port == nil { port = try Self.number(value, "Port", range: 1...65535) }
    case "user":
      if user == nil { user = value }
    case "identityfile":
      if !identityFiles.contains(value) { identityFiles.append(value) }
    case "stricthostkeychecking":
      guard hostKeyPolicy == nil else { return }
      switch value.lowercased() {
      case "yes", "true", "ask": hostKeyPolicy = .strict
      case "accept-new": hostKeyPolicy = .acceptNew
      case "no", "false", "off": hostKeyPolicy = .off
      default:
        throw SSHError(.invalidArgument, host: "", "StrictHostKeyChecking '\(value)' is not yes, accept-new or no")
      }
    case "userknownhostsfile":
      if knownHostsFile == nil { knownHostsFile = value }
      if words.count > 2 { ignored.append("UserKnownHostsFile \(words.dropFirst(2).joined(separator: " ")) (only the first file is read)") }
    case "connecttimeout":
      if connectTimeoutSeconds == nil { connectTimeoutSeconds = try Self.number(value, "ConnectTimeout", range: 1...86400) }
    case "serveraliveinterval":
      if keepaliveInterval == nil { keepaliveInterval = try Self.number(value, "ServerAliveInterval", range: 0...86400) }
    case "identitiesonly":
      if identitiesOnly == nil { identitiesOnly = ["yes", "true"].contains(value.lowercased()) }
    case "proxyjump":
      if proxyJump == nil && proxyCommand == nil { proxyJump = value }
    case "proxycommand":
      if proxyJump == nil && proxyCommand == nil { proxyCommand = rest }
    default:
      ignored.append(text)
    }
  }

  private static func number(_ text: String, _ what: String, range: ClosedRange<Int>) throws(SSHError) -> Int {
    guard let n = Int(text), range.contains(n) else {
      throw SSHError(.invalidArgument, host: "", "\(what) '\(text)' is not a number from \(range.lowerBound) to \(range.upperBound)")
    }
    return n
  }

  /// Python's `shlex.split(text)` (POSIX mode, no comments): whitespace separates words;
  /// single quotes keep everything; double quotes keep everything but `\"` and `\\`; outside
  /// quotes a backslash keeps the next character.
  public static func shellWords(_ text: String) throws(SSHError) -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quote: Character?
    var chars = Array(text)[...]
    while let c = chars.popFirst() {
      if let q = quote {
        if c == q {
          quote = nil
        } else if q == "\"" && c == "\\", let next = chars.first, next == "\"" || next == "\\" {
          current.append(chars.removeFirst())
        } else {
          current.append(c)
        }
      } else if c == "'" || c == "\"" {
        quote = c
        inWord = true
      } else if c == "\\" {
        guard let next = chars.popFirst() else {
          throw SSHError(.invalidArgument, host: "", "no escaped character at the end of '\(text)'")
        }
        current.append(next)
        inWord = true
      } else if c == " " || c == "\t" || c == "\n" || c == "\r" {
        if inWord {
          words.append(current)
          current = ""
          inWord = false
        }
      } else {
        current.append(c)
        inWord = true
      }
    }
    if quote != nil { throw SSHError(.invalidArgument, host: "", "no closing quotation in '\(text)'") }
    if inWord { words.append(current) }
    return words
  }
}
