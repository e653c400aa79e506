import DasprovCore

/// Functions every expression can call. Small on purpose: what DAS content needs, each one
/// documented in docs/dsl.md.
enum Builtins {
  static let all: [String: FunctionTable.Function] = [
    "join": join, "split": split, "length": length, "str": str, "int": int, "lower": lower,
    "upper": upper, "basename": basename, "dirname": dirname, "sorted": sorted, "unique": unique,
    "keys": keys, "trim": trim, "replace": replace, "startswith": startswith, "endswith": endswith,
    "shell_quote": shellQuote,
  ]

  private static func arity(_ name: String, _ args: [Value], _ counts: ClosedRange<Int>, _ range: SourceRange)
    throws(Diagnostic)
  {
    guard counts.contains(args.count) else {
      let expected = counts.lowerBound == counts.upperBound ? "\(counts.lowerBound)" : "\(counts.lowerBound) to \(counts.upperBound)"
      throw Diagnostic.error("\(name)() takes \(expected) argument(s), got \(args.count)", at: range)
    }
  }

  private static func string(_ name: String, _ v: Value, _ range: SourceRange) throws(Diagnostic) -> String {
    switch v {
    case .string(let s): return s
    case .int, .bool, .double: return v.description
    default: throw Diagnostic.error("\(name)() needs a string, got \(v.typeWithArticle)", at: range)
    }
  }

  private static func list(_ name: String, _ v: Value, _ range: SourceRange) throws(Diagnostic) -> [Value] {
    guard case .list(let items) = v else { throw Diagnostic.error("\(name)() needs a list, got \(v.typeWithArticle)", at: range) }
    return items
  }

  /// `join(list, sep)`: the items' text joined by `sep` (default ",").
  static func join(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("join", args, 1...2, range)
    let items = try list("join", args[0], range)
    let sep = args.count > 1 ? try string("join", args[1], range) : ","
    return .string(items.map(\.description).joined(separator: sep))
  }

  /// `split(text, sep)`: pieces of `text` between `sep` (default ","), trimmed, empty ones dropped.
  static func split(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("split", args, 1...2, range)
    if case .list = args[0] { return args[0] }
    let text = try string("split", args[0], range)
    let sep = args.count > 1 ? try string("split", args[1], range) : ","
    guard !sep.isEmpty else { throw Diagnostic.error("split() needs a non-empty separator", at: range) }
    return .list(
      text.components(separatedBy: sep).map { $0.trimmedSpaces }.filter { !$0.isEmpty }.map { .string($0) })
  }

  static func length(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("length", args, 1...1, range)
    switch args[0] {
    case .list(let l): return .int(l.count)
    case .map(let m): return .int(m.count)
    case .string(let s): return .int(s.count)
    default: throw Diagnostic.error("length() needs a list, map or string, got \(args[0].typeWithArticle)", at: range)
    }
  }

  static func str(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("str", args, 1...1, range)
    return .string(args[0].description)
  }

  static func int(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("int", args, 1...1, range)
    guard let i = args[0].intValue else {
      throw Diagnostic.error("int() cannot convert '\(args[0].description)' to an integer", at: range)
    }
    return .int(i)
  }

  static func lower(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("lower", args, 1...1, range)
    return .string(try string("lower", args[0], range).lowercased())
  }

  static func upper(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("upper", args, 1...1, range)
    return .string(try string("upper", args[0], range).uppercased())
  }

  static func trim(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("trim", args, 1...1, range)
    return .string(try string("trim", args[0], range).trimmedSpaces)
  }

  static func replace(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("replace", args, 3...3, range)
    let s = try string("replace", args[0], range)
    let a = try string("replace", args[1], range)
    let b = try string("replace", args[2], range)
    guard !a.isEmpty else { return .string(s) }
    return .string(s.components(separatedBy: a).joined(separator: b))
  }

  static func startswith(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("startswith", args, 2...2, range)
    return .bool(try string("startswith", args[0], range).hasPrefix(try string("startswith", args[1], range)))
  }

  static func endswith(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("endswith", args, 2...2, range)
    return .bool(try string("endswith", args[0], range).hasSuffix(try string("endswith", args[1], range)))
  }

  /// `shell_quote(x)`: `x` as one single-quoted POSIX shell word (`'` written `'\''`), always
  /// quoted: for values written into shell scripts, such as `export CARBON_HOME=…`.
  static func shellQuote(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("shell_quote", args, 1...1, range)
    return .string(try string("shell_quote", args[0], range).shellSingleQuoted)
  }

  static func basename(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("basename", args, 1...1, range)
    let s = try string("basename", args[0], range)
    let trimmed = s.hasSuffix("/") && s.count > 1 ? String(s.dropLast()) : s
    return .string(trimmed.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? trimmed)
  }

  static func dirname(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("dirname", args, 1...1, range)
    let s = try string("dirname", args[0], range)
    guard let slash = s.lastIndex(of: "/") else { return .string(".") }
    return .string(slash == s.startIndex ? "/" : String(s[..<slash]))
  }

  static func sorted(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("sorted", args, 1...1, range)
    return .list(try list("sorted", args[0], range).sorted { $0.description < $1.description })
  }

  static func unique(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("unique", args, 1...1, range)
    var seen: [Value] = []
    for item in try list("unique", args[0], range) where !seen.contains(item) { seen.append(item) }
    return .list(seen)
  }

  static func keys(_ args: [Value], _ range: SourceRange) throws(Diagnostic) -> Value {
    try arity("keys", args, 1...1, range)
    guard case .map(let m) = args[0] else { throw Diagnostic.error("keys() needs a map, got \(args[0].typeWithArticle)", at: range) }
    return .list(m.keys.sorted().map { .string($0) })
  }
}

extension String {
  var trimmedSpaces: String {
    var s = Substring(self)
    while let f = s.first, f.isWhitespace { s = s.dropFirst() }
    while let l = s.last, l.isWhitespace { s = s.dropLast() }
    return String(s)
  }
}
