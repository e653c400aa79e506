import DasprovCore
import Foundation
import Yams

/// Reads a vars file as YAML the way Ansible's loader (PyYAML, YAML 1.1) types it.
///
/// Yams parses; the typing of plain scalars is done here with PyYAML's rules, which differ from
/// Yams' defaults: `1e3` is a string (a YAML 1.1 float needs a dot), `0777` is octal 511,
/// `190:20:30` is a base-60 integer, `yes`/`on` are booleans, and dates print in ISO form.
/// `!vault` values are decrypted with the run's vault secrets; `!unsafe` strings and decrypted
/// strings are remembered as tagged leaves of their top-level variable.
struct YAMLVarsReader {
  let file: String
  let vault: VaultSecrets
  var warnings: [Diagnostic] = []
  /// Tagged strings of each top-level variable.
  private(set) var tags: [String: [TaggedLeaf]] = [:]
  /// Every plaintext a `!vault` value decrypted to: secrets, for the masker.
  private(set) var decrypted: [String] = []
  /// Above zero while constructing inside `!unsafe`: strings there are untrusted.
  private var unsafeDepth = 0

  init(file: String, vault: VaultSecrets = VaultSecrets()) {
    self.file = file
    self.vault = vault
  }

  /// Plain scalars with no tag get this tag, so they can be told apart from `!!str` and quotes.
  private static let implicitTag = Tag.Name(rawValue: "tag:dasprov,2025:implicit")
  private static let resolver = Resolver.basic.appending(
    try! Resolver.Rule(implicitTag, "^"))

  mutating func read(_ text: String) throws(Diagnostic) -> (Value, [String: SourceRange]) {
    let root: Node?
    do {
      root = try Yams.compose(yaml: text, Self.resolver)
    } catch {
      throw yamlDiagnostic(error)
    }
    guard let root else { return (.null, [:]) }
    var keys: [String: SourceRange] = [:]
    var leaves: [TaggedLeaf] = []
    let value = try construct(root, depth: 0, topKeys: &keys, leaves: &leaves)
    for leaf in leaves {
      guard case .key(let name)? = leaf.path.first else { continue }
      tags[name, default: []].append(TaggedLeaf(path: Array(leaf.path.dropFirst()), tag: leaf.tag))
    }
    return (value, keys)
  }

  private func range(_ mark: Mark?, length: Int = 1) -> SourceRange {
    guard let mark else { return SourceRange(file: file, line: 1, column: 1) }
    return SourceRange(file: file, line: mark.line, column: mark.column, length: length)
  }

  private func failure(_ message: String, _ mark: Mark?) -> Diagnostic {
    .error("invalid YAML in \(name: file): \(message)", at: range(mark))
  }

  private func yamlDiagnostic(_ error: Error) -> Diagnostic {
    guard let e = error as? YamlError else {
      return .error("invalid YAML in \(name: file): \(error)", at: range(nil))
    }
    switch e {
    case .scanner(let context, let problem, let mark, _),
      .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let prefix = context.map { $0.text + ": " } ?? ""
      return failure(prefix + problem, mark)
    case .duplicatedKeysInMapping(let duplicates, let context):
      let names = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
      return failure(
        "duplicate key \(names) in one mapping (Ansible keeps the last; dasprov's YAML reader refuses)",
        context.mark)
    case .reader(let problem, _, _, _):
      return failure(problem, nil)
    default:
      return failure("\(e)", nil)
    }
  }

  // MARK: - Construction

  /// The value of `node`; tagged strings below it are appended to `leaves`, with paths from
  /// `node` down.
  private mutating func construct(
    _ node: Node, depth: Int, topKeys: inout [String: SourceRange], leaves: inout [TaggedLeaf]
  ) throws(Diagnostic) -> Value {
    guard depth < 500 else { throw failure("nesting is too deep", node.mark) }
    let tag = node.tag.description
    if tag == "!unsafe" {
      // Ansible re-resolves an `!unsafe` node as if it had no tag, and distrusts every string in it.
      unsafeDepth += 1
      defer { unsafeDepth -= 1 }
      return try construct(node, depth: depth, untagged: true, topKeys: &topKeys, leaves: &leaves)
    }
    if tag == "!vault" || tag == "!vault-encrypted" {
      return try vaulted(node, leaves: &leaves)
    }
    return try construct(node, depth: depth, untagged: false, topKeys: &topKeys, leaves: &leaves)
  }

  private mutating func construct(
    _ node: Node, depth: Int, untagged: Bool, topKeys: inout [String: SourceRange], leaves: inout [TaggedLeaf]
  ) throws(Diagnostic) -> Value {
    let tag = untagged ? Self.implicitTag.rawValue : node.tag.description
    var ignored: [String: SourceRange] = [:]
    switch node {
    case .scalar(let scalar):
      let value = try scalarValue(scalar, tag: tag)
      if unsafeDepth > 0, case .string = value { leaves.append(TaggedLeaf(path: [], tag: .unsafe)) }
      return value
    case .sequence(let seq):
      switch tag {
      case Tag.Name.seq.rawValue, Self.implicitTag.rawValue:
        var out: [Value] = []
        for (i, item) in seq.enumerated() {
          var inner: [TaggedLeaf] = []
          out.append(try construct(item, depth: depth + 1, topKeys: &ignored, leaves: &inner))
          leaves += inner.map { $0.under(.index(i)) }
        }
        return .list(out)
      case Tag.Name.omap.rawValue, Tag.Name.pairs.rawValue:
        // Deprecated in Ansible; PyYAML yields (key, value) pairs, which JSON shows as lists.
        var out: [Value] = []
        var unused: [TaggedLeaf] = []
        for item in seq {
          guard case .mapping(let m) = item, m.count == 1, let (k, v) = m.first else {
            throw failure("!!omap and !!pairs expect single-key mappings", item.mark)
          }
          out.append(
            .list([
              try construct(k, depth: depth + 1, topKeys: &ignored, leaves: &unused),
              try construct(v, depth: depth + 1, topKeys: &ignored, leaves: &unused),
            ]))
        }
        return .list(out)
      default:
        throw unsupportedTag(tag, node.mark)
      }
    case .mapping(let mapping):
      let isSet = tag == Tag.Name.set.rawValue
      guard isSet || tag == Tag.Name.map.rawValue || tag == Self.implicitTag.rawValue else {
        throw unsupportedTag(tag, node.mark)
      }
      var out: [String: Value] = [:]
      var setKeys: [Value] = []
      var byKey: [String: [TaggedLeaf]] = [:]
      for (keyNode, valueNode) in try flatten(mapping) {
        var keyLeaves: [TaggedLeaf] = []
        let key = try construct(keyNode, depth: depth + 1, topKeys: &ignored, leaves: &keyLeaves)
        let name = try jsonKey(key, keyNode.mark)
        if isSet {
          if !setKeys.contains(key) { setKeys.append(key) }
          continue
        }
        var inner: [TaggedLeaf] = []
        out[name] = try construct(valueNode, depth: depth + 1, topKeys: &ignored, leaves: &inner)
        // A later key of the same name (after a `<<` merge) replaces the value and its tags.
        byKey[name] = inner.map { $0.under(.key(name)) }
        if depth == 0 { topKeys[name] = range(keyNode.mark, length: name.count) }
      }
      for name in byKey.keys.sorted() { leaves += byKey[name] ?? [] }
      return isSet ? .list(setKeys) : .map(out)
    case .alias:
      throw failure("unresolved alias", node.mark)
    }
  }

  /// An inline `!vault` value: decrypted here, once, with the run's secrets.
  private mutating func vaulted(_ node: Node, leaves: inout [TaggedLeaf]) throws(Diagnostic) -> Value {
    guard case .scalar(let scalar) = node, case .string(let ciphertext) = try scalarValue(scalar, tag: Self.implicitTag.rawValue)
    else { throw failure("the '!vault' tag requires a string value", node.mark) }
    let plaintext: String
    do {
      plaintext = try vault.decryptText(ciphertext)
    } catch {
      throw .error("cannot decrypt the !vault value: \(error)", at: range(node.mark, length: 6))
    }
    decrypted.append(plaintext)
    leaves.append(TaggedLeaf(path: [], tag: .vaulted(ciphertext: ciphertext)))
    return .string(plaintext)
  }

  private func unsupportedTag(_ tag: String, _ mark: Mark?) -> Diagnostic {
    if tag == Tag.Name.binary.rawValue {
      return failure("!!binary values are not supported (ansible-inventory cannot show them either)", mark)
    }
    return failure("could not determine a constructor for the tag '\(tag)'", mark)
  }

  /// PyYAML's `flatten_mapping`: `<<` merges mappings in; explicit keys win over merged ones,
  /// and in `<<: [*a, *b]` the earlier mapping wins.
  private func flatten(_ mapping: Node.Mapping) throws(Diagnostic) -> [(Node, Node)] {
    var merged: [(Node, Node)] = []
    var own: [(Node, Node)] = []
    for (key, value) in mapping {
      guard case .scalar(let k) = key, k.string == "<<", key.tag.description == Self.implicitTag.rawValue
      else {
        own.append((key, value))
        continue
      }
      switch value {
      case .mapping(let m):
        merged += try flatten(m)
      case .sequence(let seq):
        var parts: [[(Node, Node)]] = []
        for item in seq {
          guard case .mapping(let m) = item else {
            throw failure("a merge key expects a mapping or a list of mappings", item.mark)
          }
          parts.append(try flatten(m))
        }
        for part in parts.reversed() { merged += part }
      default:
        throw failure("a merge key expects a mapping or a list of mappings", value.mark)
      }
    }
    return merged + own
  }

  /// The string `json.dumps` writes for a key; PyYAML refuses lists and maps as keys.
  private func jsonKey(_ key: Value, _ mark: Mark?) throws(Diagnostic) -> String {
    switch key {
    case .string(let s): return s
    case .int(let i): return String(i)
    case .bool(let b): return b ? "true" : "false"
    case .null: return "null"
    case .double(let d): return PyFormat.floatRepr(d)
    case .list, .map: throw failure("found an unhashable key", mark)
    }
  }

  // MARK: - Scalars

  private func scalarValue(_ scalar: Node.Scalar, tag: String) throws(Diagnostic) -> Value {
    let text = scalar.string
    var kind = tag
    if tag == Self.implicitTag.rawValue {
      // Plain scalars, and the scalar under `!unsafe` or `!vault`, which Ansible resolves as
      // plain whatever its quoting (`!unsafe 'yes'` is true).
      kind = Self.implicitKind(text)
    }
    switch kind {
    case Tag.Name.str.rawValue: return .string(text)
    case Tag.Name.null.rawValue: return .null
    case Tag.Name.bool.rawValue:
      switch text.lowercased() {
      case "yes", "true", "on": return .bool(true)
      case "no", "false", "off": return .bool(false)
      default: throw failure("'\(text)' is not a boolean", scalar.mark)
      }
    case Tag.Name.int.rawValue:
      guard let v = Self.yamlInt(text) else { throw failure("'\(text)' is not an integer", scalar.mark) }
      return v
    case Tag.Name.float.rawValue:
      guard let v = Self.yamlFloat(text) else { throw failure("'\(text)' is not a float", scalar.mark) }
      return .double(v)
    case Tag.Name.timestamp.rawValue:
      guard let v = Self.yamlTimestamp(text) else {
        throw failure("'\(text)' is not a valid timestamp", scalar.mark)
      }
      return .string(v)
    case Tag.Name.value.rawValue:
      throw failure("could not determine a constructor for the tag '\(kind)' (a bare '=')", scalar.mark)
    default:
      throw unsupportedTag(tag, scalar.mark)
    }
  }

  /// PyYAML's implicit resolvers, tried in registration order for the scalar's first character.
  static func implicitKind(_ text: String) -> String {
    guard let first = text.unicodeScalars.first else { return Tag.Name.null.rawValue }
    if "yYnNtTfFoO".unicodeScalars.contains(first), matches(boolPattern, text) {
      return Tag.Name.bool.rawValue
    }
    if "-+0123456789.".unicodeScalars.contains(first), matches(floatPattern, text) {
      return Tag.Name.float.rawValue
    }
    if "-+0123456789".unicodeScalars.contains(first), matches(intPattern, text) {
      return Tag.Name.int.rawValue
    }
    if "~nN".unicodeScalars.contains(first), matches(nullPattern, text) {
      return Tag.Name.null.rawValue
    }
    if "0123456789".unicodeScalars.contains(first), matches(timestampPattern, text) {
      return Tag.Name.timestamp.rawValue
    }
    if text == "=" { return Tag.Name.value.rawValue }
    return Tag.Name.str.rawValue
  }

  private static func regex(_ p: String) -> NSRegularExpression {
    try! NSRegularExpression(pattern: p, options: [])
  }

  private static let boolPattern = regex(
    "^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
  private static let floatPattern = regex(
    #"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"#
  )
  private static let intPattern = regex(
    #"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"#
  )
  private static let nullPattern = regex("^(?:~|null|Null|NULL|)$")
  private static let timestampPattern = regex(
    #"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"#
  )
  private static let timestampParts = regex(
    #"^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?)?$"#
  )

  private static func matches(_ re: NSRegularExpression, _ text: String) -> Bool {
    re.firstMatch(in: text, options: [], range: NSRange(text.startIndex..., in: text)) != nil
  }

  /// PyYAML's `construct_yaml_int`; `nil` when the text is not an integer at all. Integers
  /// beyond 64 bits stay as their text (see docs/inventory.md).
  static func yamlInt(_ text: String) -> Value? {
    var t = Substring(text.replacingOccurrences(of: "_", with: ""))
    guard let first = t.first else { return nil }
    let negative = first == "-"
    if first == "+" || first == "-" { t = t.dropFirst() }
    func number(_ digits: Substring, _ radix: Int) -> Value? {
      guard !digits.isEmpty,
        digits.allSatisfy({ $0.hexDigitValue.map { $0 < radix } ?? false })
      else { return nil }
      guard let v = Int(digits, radix: radix) else { return .string(text) }
      return .int(negative ? -v : v)
    }
    if t == "0" { return .int(0) }
    if t.hasPrefix("0b") { return number(t.dropFirst(2), 2) }
    if t.hasPrefix("0x") { return number(t.dropFirst(2), 16) }
    if t.hasPrefix("0") { return number(t, 8) }
    if t.contains(":") {
      var total = 0
      for part in t.split(separator: ":", omittingEmptySubsequences: false) {
        guard case .int(let d)? = number(part, 10) else { return nil }
        let (m, o1) = total.multipliedReportingOverflow(by: 60)
        let (sum, o2) = m.addingReportingOverflow(negative ? -d : d)
        if o1 || o2 { return .string(text) }
        total = sum
      }
      return .int(negative ? -total : total)
    }
    return number(t, 10)
  }

  /// PyYAML's `construct_yaml_float`.
  static func yamlFloat(_ text: String) -> Double? {
    var t = text.replacingOccurrences(of: "_", with: "").lowercased()
    guard let first = t.first else { return nil }
    var sign = 1.0
    if first == "-" { sign = -1 }
    if first == "+" || first == "-" { t.removeFirst() }
    if t == ".inf" { return sign * .infinity }
    if t == ".nan" { return .nan }
    if t.contains(":") {
      var total = 0.0
      for part in t.split(separator: ":", omittingEmptySubsequences: false) {
        guard let d = pythonFloat(String(part)) else { return nil }
        total = total * 60 + d
      }
      return sign * total
    }
    return pythonFloat(t).map { sign * $0 }
  }

  /// Python's `float(text)` for the forms YAML hands it.
  private static func pythonFloat(_ text: String) -> Double? {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    switch t {
    case "inf", "+inf", "infinity", "+infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    case "nan", "+nan", "-nan": return .nan
    default: break
    }
    var body = Substring(t)
    if let f = body.first, f == "+" || f == "-" { body = body.dropFirst() }
    let parts = body.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false)
    let mantissa = parts[0]
    guard !mantissa.isEmpty, mantissa.contains(where: { $0.isNumber }),
      mantissa.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "." }),
      mantissa.filter({ $0 == "." }).count <= 1
    else { return nil }
    var normalized = String(mantissa)
    if normalized.hasPrefix(".") { normalized = "0" + normalized }
    if normalized.hasSuffix(".") { normalized += "0" }
    if parts.count == 2 {
      var exp = parts[1]
      var expSign = ""
      if let f = exp.first, f == "+" || f == "-" { expSign = String(f); exp = exp.dropFirst() }
      guard !exp.isEmpty, exp.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
      normalized += "e" + expSign + exp
    }
    let value = Double(normalized) ?? .infinity
    return t.hasPrefix("-") ? -value : value
  }

  /// PyYAML's `construct_yaml_timestamp`, printed with Python's `isoformat()`.
  static func yamlTimestamp(_ text: String) -> String? {
    let ns = text as NSString
    guard
      let m = timestampParts.firstMatch(
        in: text, options: [], range: NSRange(location: 0, length: ns.length))
    else { return nil }
    func group(_ n: Int) -> String? {
      let r = m.range(at: n)
      return r.location == NSNotFound ? nil : ns.substring(with: r)
    }
    guard let year = Int(group(1)!), let month = Int(group(2)!), let day = Int(group(3)!),
      year >= 1, (1...12).contains(month)
    else { return nil }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    guard (1...days).contains(day) else { return nil }
    func pad(_ v: Int, _ width: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    var out = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    guard let hourText = group(4) else { return out }
    guard let hour = Int(hourText), let minute = Int(group(5)!), let second = Int(group(6)!),
      hour < 24, minute < 60, second < 60
    else { return nil }
    out += "T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
    if let fraction = group(7) {
      var f = String(fraction.prefix(6))
      while f.count < 6 { f += "0" }
      if let micro = Int(f), micro != 0 { out += "." + f }
    }
    if let tz = group(8) {
      if tz == "Z" {
        out += "+00:00"
      } else {
        let tzHour = Int(group(10)!) ?? 0
        let tzMinute = group(11).flatMap { Int($0) } ?? 0
        guard tzHour * 60 + tzMinute < 24 * 60 else { return nil }
        if tzHour == 0 && tzMinute == 0 {
          out += "+00:00"
        } else {
          out += (group(9) == "-" ? "-" : "+") + pad(tzHour, 2) + ":" + pad(tzMinute, 2)
        }
      }
    }
    return out
  }
}
