import DasprovCore
import Foundation

/// The variables of one host or group from `group_vars/` or `host_vars/`, merged in the order
/// Ansible loads the files, with where each winning top-level key was written.
struct FileVars {
  var values: [String: Value] = [:]
  var origins: [String: SourceRange] = [:]
  /// Tagged strings (`!unsafe`, `!vault`) inside each variable; they go where the value goes.
  var tags: [String: [TaggedLeaf]] = [:]

  mutating func merge(_ other: FileVars) {
    for (k, v) in other.values {
      values[k] = v
      origins[k] = other.origins[k]
      tags[k] = other.tags[k]
    }
  }
}

/// Finds and reads the `group_vars/` and `host_vars/` beside an inventory, the way Ansible's
/// `host_group_vars` plugin does.
///
/// For entity `NAME` it takes the first of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json` that
/// exists; a directory contributes every file below it (sorted, recursively, skipping hidden
/// files, `~` backups and unknown extensions). Each file is tried as JSON first, then YAML.
/// A file that is vault-encrypted as a whole is decrypted first, with the run's secrets.
struct VarsFileReader {
  let baseDirectory: String
  let vault: VaultSecrets
  /// Where the files read are registered, for diagnostics to quote (encrypted ones redacted).
  let sources: SourceFiles
  var diagnostics = DiagnosticSink()
  /// Every decrypted string (inline `!vault` values, and the strings of encrypted files): secrets.
  private(set) var decrypted: [String] = []
  /// The files that were encrypted as a whole.
  private(set) var encryptedFiles: Set<String> = []
  private var loaded: [String: FileVars] = [:]
  private let fm = FileManager.default

  init(baseDirectory: String, vault: VaultSecrets, sources: SourceFiles) {
    self.baseDirectory = baseDirectory
    self.vault = vault
    self.sources = sources
  }

  enum Kind: String {
    case group = "group_vars"
    case host = "host_vars"
  }

  private var checkedDirectories: [Kind: Bool] = [:]

  mutating func vars(for kind: Kind, named name: String) -> FileVars {
    // Ansible skips names that look like absolute paths (chroot-style hosts).
    guard !name.isEmpty, !name.hasPrefix("/") else { return FileVars() }
    let directory = join(baseDirectory, kind.rawValue)
    guard directoryUsable(directory, kind: kind) else { return FileVars() }
    var result = FileVars()
    for file in findVarsFiles(in: directory, name: name) {
      result.merge(load(file))
    }
    return result
  }

  /// Whether `group_vars`/`host_vars` is a directory; a file there only earns a warning.
  private mutating func directoryUsable(_ path: String, kind: Kind) -> Bool {
    if let known = checkedDirectories[kind] { return known }
    var isDir: ObjCBool = false
    let exists = fm.fileExists(atPath: path, isDirectory: &isDir)
    if exists && !isDir.boolValue {
      diagnostics.warning(
        "\(name: path) is not a directory; Ansible skips it, and so does dasprov", at: nil)
    }
    checkedDirectories[kind] = exists && isDir.boolValue
    return exists && isDir.boolValue
  }

  private static let extensions = [".yml", ".yaml", ".json"]

  private func findVarsFiles(in directory: String, name: String) -> [String] {
    for ext in [""] + Self.extensions {
      let path = join(directory, name + ext)
      var isDir: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &isDir) else { continue }
      return isDir.boolValue ? filesBelow(path) : [path]
    }
    return []
  }

  private func filesBelow(_ directory: String) -> [String] {
    let entries = (try? fm.contentsOfDirectory(atPath: directory)) ?? []
    var found: [String] = []
    for entry in PyFormat.sortedKeys(entries) {
      if entry.hasPrefix(".") || entry.hasSuffix("~") { continue }
      let ext = pathExtension(entry)
      let path = join(directory, entry)
      var isDir: ObjCBool = false
      guard fm.fileExists(atPath: path, isDirectory: &isDir) else { continue }
      if isDir.boolValue {
        if ext.isEmpty { found += filesBelow(path) }
      } else if ext.isEmpty || Self.extensions.contains(ext) {
        found.append(path)
      }
    }
    return found
  }

  /// Python's `os.path.splitext(name)[1]`.
  private func pathExtension(_ name: String) -> String {
    guard let dot = name.lastIndex(of: "."), name[..<dot].contains(where: { $0 != "." }) else {
      return ""
    }
    return String(name[dot...])
  }

  private func join(_ a: String, _ b: String) -> String {
    if a.isEmpty || a == "." { return b }
    return a.hasSuffix("/") ? a + b : a + "/" + b
  }

  // MARK: - Reading one file

  private mutating func load(_ path: String) -> FileVars {
    if let cached = loaded[path] { return cached }
    let result = read(path)
    loaded[path] = result
    return result
  }

  private mutating func read(_ path: String) -> FileVars {
    let whole = SourceRange(file: path, line: 1, column: 1)
    guard let data = fm.contents(atPath: path) else {
      diagnostics.error("cannot read variables file \(name: path)", at: whole)
      return FileVars()
    }
    guard var text = String(validating: data, as: UTF8.self) else {
      diagnostics.error("variables file \(name: path) is not valid UTF-8", at: whole)
      return FileVars()
    }
    let encrypted = VaultEnvelope.isVault(text)
    if encrypted {
      do {
        text = try vault.decryptText(text)
      } catch {
        diagnostics.error("cannot decrypt \(name: path): \(error)", at: whole)
        return FileVars()
      }
      // Diagnostics inside it give line and column of the plaintext, which is never quoted.
      sources.register(file: path, text: "", redacted: true)
    } else {
      sources.register(
        file: path, text: text.replacingOccurrences(of: "\r\n", with: "\n"), names: NameSpans.vars)
    }
    let result = parse(text, path: path, whole: whole)
    if encrypted {
      encryptedFiles.insert(path)
      for value in result.values.values { Self.collectStrings(value, into: &decrypted) }
    }
    return result
  }

  /// Ansible tries JSON first, whatever the file is called.
  private mutating func parse(_ text: String, path: String, whole: SourceRange) -> FileVars {
    if let (value, keys) = PyJSON.parse(text) {
      return topLevel(value, path: path, whole: whole) { key in
        keys[key].map { SourceRange(file: path, line: $0.line, column: $0.column, length: $0.length) }
      }
    }
    do {
      var reader = YAMLVarsReader(file: path, vault: vault)
      let (value, keys) = try reader.read(text)
      diagnostics.add(contentsOf: reader.warnings)
      decrypted += reader.decrypted
      var result = topLevel(value, path: path, whole: whole) { keys[$0] }
      result.tags = reader.tags.filter { result.values[$0.key] != nil }
      return result
    } catch {
      diagnostics.add(error)
      return FileVars()
    }
  }

  private static func collectStrings(_ value: Value, into out: inout [String]) {
    switch value {
    case .string(let s): out.append(s)
    case .list(let items): for item in items { collectStrings(item, into: &out) }
    case .map(let m): for item in m.values { collectStrings(item, into: &out) }
    case .null, .bool, .int, .double: break
    }
  }

  /// Empty files are ignored; anything else must be a mapping of variable names.
  private mutating func topLevel(
    _ value: Value, path: String, whole: SourceRange, origin: (String) -> SourceRange?
  ) -> FileVars {
    switch value {
    case .map(let m):
      var out = FileVars()
      out.values = m
      for key in m.keys { out.origins[key] = origin(key) ?? whole }
      return out
    case .null, .bool(false), .int(0), .string(""), .list([]):
      return FileVars()
    case .double(let d) where d == 0:
      return FileVars()
    default:
      diagnostics.error(
        "expected a mapping of variable names at the top of \(name: path), found \(value.typeWithArticle)",
        at: whole)
      return FileVars()
    }
  }
}
