import Foundation

/// The `[defaults]` settings of the ansible.cfg Ansible would read, for the vault options.
///
/// Ansible takes the first readable file of: `$ANSIBLE_CONFIG` (a directory means its
/// `ansible.cfg`), `./ansible.cfg` (skipped in a world-writable directory), `~/.ansible.cfg`,
/// `/etc/ansible/ansible.cfg`, and reads it with Python's configparser (`;` starts an inline
/// comment after a blank; keys are case-insensitive; indented lines continue a value).
public struct AnsibleConfig: Sendable, Hashable {
  /// The file read, or `nil` when there is none.
  public var path: String?
  /// `[defaults]` keys (lowercased) to their values.
  public var defaults: [String: String]

  public init(path: String? = nil, defaults: [String: String] = [:]) {
    self.path = path
    self.defaults = defaults
  }

  /// Finds and reads the file as Ansible does; an unreadable or malformed file is an error.
  public static func load(
    environment: [String: String], currentDirectory: String, home: String
  ) throws(ConfigError) -> AnsibleConfig {
    guard let path = find(environment: environment, currentDirectory: currentDirectory, home: home) else {
      return AnsibleConfig()
    }
    guard let data = FileManager.default.contents(atPath: path),
      let text = String(validating: data, as: UTF8.self)
    else { throw ConfigError(path: path, message: "cannot read it as UTF-8 text") }
    return AnsibleConfig(path: path, defaults: try parseDefaults(text, path: path))
  }

  public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "error reading config file \(path): \(message)" }
  }

  static func find(environment: [String: String], currentDirectory: String, home: String) -> String? {
    let fm = FileManager.default
    var candidates: [String] = []
    if var fromEnv = environment["ANSIBLE_CONFIG"] {
      fromEnv = expand(fromEnv, environment: environment, home: home, base: currentDirectory)
      var isDir: ObjCBool = false
      if fm.fileExists(atPath: fromEnv, isDirectory: &isDir), isDir.boolValue {
        fromEnv = (fromEnv as NSString).appendingPathComponent("ansible.cfg")
      }
      candidates.append(fromEnv)
    }
    if let attributes = try? fm.attributesOfItem(atPath: currentDirectory),
      let mode = attributes[.posixPermissions] as? Int, mode & 0o002 == 0
    {
      candidates.append((currentDirectory as NSString).appendingPathComponent("ansible.cfg"))
    }
    candidates.append((home as NSString).appendingPathComponent(".ansible.cfg"))
    candidates.append("/etc/ansible/ansible.cfg")
    return candidates.first { fm.fileExists(atPath: $0) && fm.isReadableFile(atPath: $0) }
  }

  /// The `[defaults]` section, as configparser reads it.
  static func parseDefaults(_ text: String, path: String) throws(ConfigError) -> [String: String] {
    var section: String?
    var out: [String: String] = [:]
    var lastKey: String?
    for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
      let line = String(raw)
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") {
        if trimmed.isEmpty { lastKey = nil }
        continue
      }
      if let first = line.first, first == " " || first == "\t", let key = lastKey {
        if section == "defaults" { out[key, default: ""] += "\n" + stripInlineComment(trimmed) }
        continue
      }
      if trimmed.hasPrefix("[") {
        guard let close = trimmed.firstIndex(of: "]") else {
          throw ConfigError(path: path, message: "line \(n + 1): malformed section header")
        }
        section = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
        lastKey = nil
        continue
      }
      guard section != nil else {
        throw ConfigError(path: path, message: "line \(n + 1): a setting before any [section]")
      }
      guard let sep = trimmed.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
        throw ConfigError(path: path, message: "line \(n + 1): expected 'key = value'")
      }
      let key = trimmed[..<sep].trimmingCharacters(in: .whitespaces).lowercased()
      let value = stripInlineComment(String(trimmed[trimmed.index(after: sep)...]))
      lastKey = key
      if section == "defaults" { out[key] = value }
    }
    return out
  }

  /// configparser's `inline_comment_prefixes=(';',)`: a `;` after whitespace ends the value.
  private static func stripInlineComment(_ value: String) -> String {
    var previous: Character = " "
    var end = value.endIndex
    for i in value.indices {
      if value[i] == ";" && (previous == " " || previous == "\t") {
        end = i
        break
      }
      previous = value[i]
    }
    return value[..<end].trimmingCharacters(in: .whitespaces)
  }

  /// Ansible's `unfrackpath` without following links: `$VARS` and `~` expanded, relative paths
  /// taken from `base`.
  static func expand(_ path: String, environment: [String: String], home: String, base: String) -> String {
    var out = expandVariables(path, environment: environment)
    if out == "~" || out.hasPrefix("~/") { out = home + out.dropFirst() }
    if !out.hasPrefix("/") { out = (base as NSString).appendingPathComponent(out) }
    return (out as NSString).standardizingPath
  }

  /// `os.path.expandvars`: `$NAME` and `${NAME}` of set variables; others stay as written.
  private static func expandVariables(_ text: String, environment: [String: String]) -> String {
    guard text.contains("$") else { return text }
    var out = ""
    var i = text.startIndex
    while i < text.endIndex {
      guard text[i] == "$" else {
        out.append(text[i])
        i = text.index(after: i)
        continue
      }
      var j = text.index(after: i)
      let braced = j < text.endIndex && text[j] == "{"
      if braced { j = text.index(after: j) }
      let nameStart = j
      while j < text.endIndex, text[j].isLetter || text[j].isNumber || text[j] == "_" { j = text.index(after: j) }
      let name = String(text[nameStart..<j])
      let closed = !braced || (j < text.endIndex && text[j] == "}")
      if !name.isEmpty, closed, let value = environment[name] {
        out += value
        i = braced ? text.index(after: j) : j
      } else {
        out.append("$")
        i = text.index(after: i)
      }
    }
    return out
  }
}
