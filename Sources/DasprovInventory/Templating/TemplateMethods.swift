import DasprovCore
import Foundation

/// The Python methods inventory templates call on strings and dicts: `name.split('.')[0]`,
/// `x.lower()`, `d.get('k', 'fallback')`, `', '.join(names)`.
extension TemplateEvaluator {
  static let methodNames: Set<String> = [
    "split", "rsplit", "lower", "upper", "strip", "lstrip", "rstrip", "replace", "startswith", "endswith", "join",
    "capitalize", "get", "keys", "values", "items",
  ]

  func method(_ base: TemplateValue, _ name: String, _ args: Arguments) throws(TemplateError) -> TemplateValue {
    if case .undefined = base { _ = try materialize(base) }
    if case .host(let host) = base, name == "get" {
      guard let key = args.at(0, "key") else { throw Py.invalid("get needs a key") }
      let found = try context.hostVariable(host, Py.str(try materialize(key).0))
      if case .undefined = found { return args.at(1, "default") ?? .plain(.null) }
      return found
    }
    if case .value(.map(let m), let taint) = base, name == "get" {
      guard let key = args.at(0, "key") else { throw Py.invalid("get needs a key") }
      let k = Py.str(try materialize(key).0)
      guard let found = m[k] else { return args.at(1, "default") ?? .plain(.null) }
      return .value(found, taint.child(.key(k)))
    }
    let (v, taint) = try materialize(base)
    var values: [Value] = []
    var derived = taint
    for a in args.positional {
      let (x, t) = try materialize(a)
      values.append(x)
      derived = derived.union(t)
    }
    derived = derived.collapsed
    func arg(_ i: Int) -> Value? { i < values.count ? values[i] : nil }
    func text(_ i: Int) -> String? { arg(i).flatMap { $0.isNull ? nil : Py.str($0) } }
    switch (v, name) {
    case (.string(let s), "split"), (.string(let s), "rsplit"):
      let parts = try PyString.split(s, text(0), arg(1)?.intValue ?? -1, fromRight: name == "rsplit")
      return .value(.list(parts.map(Value.string)), derived)
    case (.string(let s), "lower"): return .value(.string(s.lowercased()), derived)
    case (.string(let s), "upper"): return .value(.string(s.uppercased()), derived)
    case (.string(let s), "capitalize"): return .value(.string(s.prefix(1).uppercased() + s.dropFirst().lowercased()), derived)
    case (.string(let s), "strip"): return .value(.string(PyString.strip(s, text(0))), derived)
    case (.string(let s), "lstrip"): return .value(.string(PyString.strip(s, text(0), trailing: false)), derived)
    case (.string(let s), "rstrip"): return .value(.string(PyString.strip(s, text(0), leading: false)), derived)
    case (.string(let s), "replace"):
      guard let old = arg(0), let new = arg(1) else { throw Py.invalid("replace needs old and new") }
      return .value(.string(PyString.replace(s, Py.str(old), Py.str(new), arg(2)?.intValue ?? -1)), derived)
    case (.string(let s), "startswith"), (.string(let s), "endswith"):
      let candidates: [Value] = arg(0)?.listValue ?? arg(0).map { [$0] } ?? []
      let hit = candidates.contains { c in
        let p = Py.str(c)
        return name == "startswith" ? s.unicodeScalars.starts(with: p.unicodeScalars) : s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed())
      }
      return .plain(.bool(hit))
    case (.string(let s), "join"):
      guard let items = arg(0) else { throw Py.invalid("join needs a list") }
      let parts = try Self.iterate(items)
      guard parts.allSatisfy({ $0.stringValue != nil }) else { throw Py.invalid("join: sequence item is not a string") }
      return .value(.string(parts.map(Py.str).joined(separator: s)), derived)
    case (.map(let m), "keys"): return .value(.list(PyFormat.sortedKeys(m.keys).map(Value.string)), .clean)
    case (.map(let m), "values"):
      let keys = PyFormat.sortedKeys(m.keys)
      var t = Taint.clean
      for (n, k) in keys.enumerated() { t = t.union(taint.child(.key(k)).under(.index(n))) }
      return .value(.list(keys.map { m[$0]! }), t)
    case (.map(let m), "items"):
      let keys = PyFormat.sortedKeys(m.keys)
      var t = Taint.clean
      for (n, k) in keys.enumerated() { t = t.union(taint.child(.key(k)).under(.index(1)).under(.index(n))) }
      return .value(.list(keys.map { .list([.string($0), m[$0]!]) }), t)
    default:
      if !Self.methodNames.contains(name) {
        throw TemplateError(.syntax, "calling \(name: name)() is not supported in inventory values")
      }
      throw Py.invalid("\(Py.typeName(v)) object has no method \(name)()")
    }
  }
}

/// Python's `str` methods where they differ from Foundation's.
enum PyString {
  /// Python's `str.isspace()` characters.
  static func isSpace(_ c: Unicode.Scalar) -> Bool {
    c.properties.isWhitespace || (c.value >= 0x1C && c.value <= 0x1F)
  }

  static func strip(_ s: String, _ chars: String? = nil, leading: Bool = true, trailing: Bool = true) -> String {
    let set = chars.map { Set($0.unicodeScalars) }
    func strippable(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? isSpace(c) }
    var scalars = Substring(s).unicodeScalars[...]
    if leading { while let c = scalars.first, strippable(c) { scalars.removeFirst() } }
    if trailing { while let c = scalars.last, strippable(c) { scalars.removeLast() } }
    return String(String.UnicodeScalarView(scalars))
  }

  /// `str.split(sep, maxsplit)` (or `rsplit`): without `sep`, runs of blanks separate and
  /// blanks at the ends are dropped.
  static func split(_ s: String, _ sep: String?, _ maxsplit: Int, fromRight: Bool = false) throws(TemplateError) -> [String] {
    let limit = maxsplit < 0 ? Int.max : maxsplit
    if let sep {
      guard !sep.isEmpty else { throw Py.invalid("empty separator") }
      var parts = fromRight
        ? s.reversedScalars.components(separatedBy: sep.reversedScalars).map(\.reversedScalars).reversed()
        : s.components(separatedBy: sep)
      if parts.count - 1 > limit {
        if fromRight {
          let head = parts[..<(parts.count - limit)].joined(separator: sep)
          parts = [head] + parts[(parts.count - limit)...]
        } else {
          let tail = parts[limit...].joined(separator: sep)
          parts = Array(parts[..<limit]) + [tail]
        }
      }
      return parts
    }
    var words: [String] = []
    var scalars = Array(s.unicodeScalars)
    if fromRight { scalars.reverse() }
    var i = 0
    while i < scalars.count {
      while i < scalars.count, isSpace(scalars[i]) { i += 1 }
      guard i < scalars.count else { break }
      if words.count == limit {
        var rest = Array(scalars[i...])
        while let last = rest.last, isSpace(last) { rest.removeLast() }
        words.append(String(String.UnicodeScalarView(rest)))
        break
      }
      let start = i
      while i < scalars.count, !isSpace(scalars[i]) { i += 1 }
      words.append(String(String.UnicodeScalarView(scalars[start..<i])))
    }
    return fromRight ? words.map(\.reversedScalars).reversed() : words
  }

  static func replace(_ s: String, _ old: String, _ new: String, _ count: Int) -> String {
    guard !old.isEmpty else {
      var pieces = s.map(String.init)
      pieces.insert("", at: 0)
      pieces.append("")
      let limit = count < 0 ? pieces.count : min(count, pieces.count - 1)
      return pieces.enumerated().map { $0.offset > 0 && $0.offset <= limit ? new + $0.element : $0.element }.joined()
    }
    let parts = s.components(separatedBy: old)
    guard count >= 0, parts.count - 1 > count else { return parts.joined(separator: new) }
    return parts[...count].joined(separator: new) + old + parts[(count + 1)...].joined(separator: old)
  }

  /// Python's `shlex.quote`, which Ansible's `quote` filter is.
  static func shellQuote(_ s: String) -> String {
    if s.isEmpty { return "''" }
    let safe = s.unicodeScalars.allSatisfy { c in
      c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || "_@%+=:,./-".unicodeScalars.contains(c))
    }
    return safe ? s : "'" + s.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
  }

  /// `os.path.basename`: the text after the last `/`.
  static func basename(_ p: String) -> String {
    String(p.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
  }

  /// `os.path.dirname`: the text up to the last `/`, without trailing slashes unless all slashes.
  static func dirname(_ p: String) -> String {
    guard let slash = p.lastIndex(of: "/") else { return "" }
    let head = String(p[...slash])
    if head.allSatisfy({ $0 == "/" }) { return head }
    return String(head.reversed().drop { $0 == "/" }.reversed())
  }
}

extension String {
  fileprivate var reversedScalars: String { String(String.UnicodeScalarView(unicodeScalars.reversed())) }
}
