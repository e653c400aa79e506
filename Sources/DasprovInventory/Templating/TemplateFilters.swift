import DasprovCore
import Foundation

/// The filters inventory values use, with the semantics of Jinja2 3.1 and ansible-core 2.19.
///
/// Chosen from what inventories write: defaults (`default`/`d`, `mandatory`), type and case
/// conversion (`int`, `float`, `string`, `bool`, `lower`, `upper`, `capitalize`, `trim`),
/// building addresses and lists (`join`, `split`, `replace`, `regex_replace`, `first`, `last`,
/// `length`/`count`, `list`, `unique`, `sort`, `map`, `extract`, `combine`, `ternary`), paths
/// (`basename`, `dirname`) and quoting (`to_json`, `quote`). Any other filter is a syntax error,
/// as an unknown filter is in Ansible.
extension TemplateEvaluator {
  static let filterNames: Set<String> = [
    "default", "d", "mandatory", "lower", "upper", "capitalize", "trim", "int", "float", "string", "bool",
    "ternary", "join", "split", "replace", "regex_replace", "length", "count", "first", "last", "list",
    "unique", "sort", "map", "extract", "combine", "basename", "dirname", "to_json", "quote",
  ]

  mutating func filter(_ name: String, _ input: TemplateValue, _ args: Arguments) throws(TemplateError) -> TemplateValue {
    switch name {
    case "default", "d":
      let fallback = args.at(0, "default_value") ?? .plain(.string(""))
      if case .undefined = input { return fallback }
      if let boolean = args.at(1, "boolean"), Py.truthy(try materialize(boolean).0),
        !Py.truthy(try materialize(input).0)
      {
        return fallback
      }
      return input
    case "mandatory":
      if case .undefined(let why) = input {
        let msg = try args.at(0, "msg").map { (m) throws(TemplateError) in Py.str(try materialize(m).0) }
        throw TemplateError(.undefined, msg.map { "\($0)" } ?? why)
      }
      return input
    case "extract":
      guard let container = args.at(0, "container") else { throw Py.invalid("extract needs a container") }
      var keys = [try materialize(input).0]
      if let more = args.at(1, "morekeys") {
        let (m, _) = try materialize(more)
        if case .list(let l) = m { keys += l } else { keys.append(m) }
      }
      var value = container
      for key in keys { value = try item(value, key) }
      return value
    case "map":
      return try map(input, args)
    case "ternary":
      let (test, _) = try materialize(input)
      if test.isNull, let none = args.at(2, "none_val") { return none }
      guard let yes = args.at(0, "true_val"), let no = args.at(1, "false_val") else {
        throw Py.invalid("ternary needs a true and a false value")
      }
      return Py.truthy(test) ? yes : no
    default:
      break
    }
    let (v, taint) = try materialize(input)
    var argTaint = Taint.clean
    var values: [Value] = []
    for a in args.positional {
      let (x, t) = try materialize(a)
      values.append(x)
      argTaint = argTaint.union(t)
    }
    var named: [String: Value] = [:]
    for (k, a) in args.named {
      let (x, t) = try materialize(a)
      named[k] = x
      argTaint = argTaint.union(t)
    }
    func arg(_ i: Int, _ n: String) -> Value? { i < values.count ? values[i] : named[n] }
    let derived = taint.union(argTaint).collapsed
    switch name {
    case "first", "last":
      let items = try Self.iterate(v)
      guard let pick = name == "first" ? items.first : items.last else {
        return .undefined("no \(name) item, the sequence was empty")
      }
      let at = name == "first" ? 0 : items.count - 1
      return .value(pick, v.listValue != nil ? taint.child(.index(at)) : derived)
    case "list":
      return .value(.list(try Self.iterate(v)), v.listValue != nil ? taint : derived)
    default:
      return .value(try Self.pure(name, v, arg), derived)
    }
  }

  /// Filters whose result depends only on the input's and arguments' values.
  private static func pure(_ name: String, _ v: Value, _ arg: (Int, String) -> Value?) throws(TemplateError) -> Value {
    switch name {
    case "lower": return .string(Py.str(v).lowercased())
    case "upper": return .string(Py.str(v).uppercased())
    case "capitalize":
      let s = Py.str(v)
      return .string(s.prefix(1).uppercased() + s.dropFirst().lowercased())
    case "trim":
      return .string(PyString.strip(Py.str(v), arg(0, "chars").map(Py.str)))
    case "string": return .string(Py.str(v))
    case "int":
      let fallback = arg(0, "default") ?? .int(0)
      guard case .int(let base)? = arg(1, "base") ?? .int(10) else { throw Py.invalid("int: base must be an integer") }
      return PyNumber.int(v, base: base).map(Value.int) ?? fallback
    case "float": return PyNumber.float(v).map(Value.double) ?? arg(0, "default") ?? .double(0)
    case "bool": return .bool(toBool(v))
    case "join":
      let separator = arg(0, "d").map(Py.str) ?? ""
      if let attribute = arg(1, "attribute") {
        return .string(try iterate(v).map { Py.str(attributeOf($0, Py.str(attribute)) ?? .null) }.joined(separator: separator))
      }
      return .string(try iterate(v).map(Py.str).joined(separator: separator))
    case "split":
      guard case .string(let s) = v else { throw Py.invalid("split needs a string, not \(Py.typeName(v))") }
      let max = arg(1, "maxsplit")?.intValue ?? -1
      return .list(try PyString.split(s, arg(0, "sep").flatMap { $0.isNull ? nil : Py.str($0) }, max).map(Value.string))
    case "replace":
      guard let old = arg(0, "old"), let new = arg(1, "new") else { throw Py.invalid("replace needs old and new") }
      return .string(PyString.replace(Py.str(v), Py.str(old), Py.str(new), arg(2, "count")?.intValue ?? -1))
    case "regex_replace":
      return .string(
        try PyRegex.sub(
          Py.str(v), pattern: Py.str(arg(0, "pattern") ?? ""), replacement: Py.str(arg(1, "replacement") ?? ""),
          ignoreCase: Py.truthy(arg(2, "ignorecase") ?? false), multiline: Py.truthy(arg(3, "multiline") ?? false),
          count: arg(4, "count")?.intValue ?? 0))
    case "length", "count":
      switch v {
      case .string(let s): return .int(s.unicodeScalars.count)
      case .list(let l): return .int(l.count)
      case .map(let m): return .int(m.count)
      default: throw Py.invalid("object of type \(Py.typeName(v)) has no len()")
      }
    case "unique":
      let caseSensitive = Py.truthy(arg(0, "case_sensitive") ?? false)
      var out: [Value] = []
      var seen: [Value] = []
      for item in try iterate(v) {
        let key = caseSensitive ? item : lowered(item)
        if !seen.contains(where: { Py.equal($0, key) }) {
          seen.append(key)
          out.append(item)
        }
      }
      return .list(out)
    case "sort":
      let reverse = Py.truthy(arg(0, "reverse") ?? false)
      let caseSensitive = Py.truthy(arg(1, "case_sensitive") ?? false)
      let attribute = arg(2, "attribute").map(Py.str)
      let items = try iterate(v)
      let keys = items.map { item in
        let k = attribute.map { attributeOf(item, $0) ?? .null } ?? item
        return caseSensitive ? k : lowered(k)
      }
      var order = Array(items.indices)
      var failed = false
      order.sort { a, b in
        guard let lt = Py.less(keys[a], keys[b]), let gt = Py.less(keys[b], keys[a]) else {
          failed = true
          return a < b
        }
        if lt == gt { return a < b }
        return reverse ? gt : lt
      }
      if failed { throw Py.invalid("sort: the items cannot be compared with each other") }
      return .list(order.map { items[$0] })
    case "combine":
      guard case .map(var out) = v else { throw Py.invalid("combine needs dicts, not \(Py.typeName(v))") }
      var k = 0
      while let next = arg(k, "") {
        guard case .map(let m) = next else { throw Py.invalid("combine needs dicts, not \(Py.typeName(next))") }
        for (key, value) in m { out[key] = value }
        k += 1
      }
      return .map(out)
    case "basename": return .string(PyString.basename(Py.str(v)))
    case "dirname": return .string(PyString.dirname(Py.str(v)))
    case "to_json": return .string(PyJSONText.dumps(v))
    case "quote": return .string(PyString.shellQuote(v.isNull ? "" : Py.str(v)))
    default:
      throw TemplateError(.syntax, "no filter named \(name: name)")
    }
  }

  /// Jinja's `map`: `map('filter', args…)` or `map(attribute='a.b', default=…)`.
  private mutating func map(_ input: TemplateValue, _ args: Arguments) throws(TemplateError) -> TemplateValue {
    let (v, taint) = try materialize(input)
    let items = try Self.iterate(v)
    var out: [Value] = []
    var outTaint = Taint.clean
    if let attribute = args.named["attribute"] {
      let path = Py.str(try materialize(attribute).0)
      for (n, item) in items.enumerated() {
        var current = TemplateValue.value(item, taint.child(.index(n)))
        for part in path.split(separator: ".") {
          current = try self.item(current, Int(part).map(Value.int) ?? .string(String(part)))
        }
        if case .undefined = current, let fallback = args.named["default"] { current = fallback }
        let (x, t) = try materialize(current)
        outTaint = outTaint.union(t.under(.index(out.count)))
        out.append(x)
      }
      return .value(.list(out), outTaint)
    }
    guard let first = args.positional.first, case .string(let name) = try materialize(first).0 else {
      throw Py.invalid("map needs a filter name or attribute=")
    }
    guard Self.filterNames.contains(name) else { throw TemplateError(.syntax, "no filter named \(name: name)") }
    let rest = Arguments(positional: Array(args.positional.dropFirst()), named: args.named)
    for (n, item) in items.enumerated() {
      let (x, t) = try materialize(filter(name, .value(item, taint.child(.index(n))), rest))
      outTaint = outTaint.union(t.under(.index(out.count)))
      out.append(x)
    }
    return .value(.list(out), outTaint)
  }

  /// Ansible's `bool` filter: the well-known spellings, else `value == 1`.
  private static func toBool(_ v: Value) -> Bool {
    let text: String
    switch v {
    case .string(let s): text = s.lowercased()
    case .int(let i): text = String(i)
    case .bool(let b): text = b ? "true" : "false"
    case .double(let d): return d == 1
    default: return false
    }
    if ["yes", "on", "true", "1"].contains(text) { return true }
    return false
  }

  private static func lowered(_ v: Value) -> Value {
    if case .string(let s) = v { return .string(s.lowercased()) }
    return v
  }

  /// `a.b.0` inside an item, for `sort`/`join` with `attribute=`.
  private static func attributeOf(_ v: Value, _ path: String) -> Value? {
    var current = v
    for part in path.split(separator: ".") {
      switch current {
      case .map(let m): guard let next = m[String(part)] else { return nil }; current = next
      case .list(let l): guard let i = Int(part), l.indices.contains(i) else { return nil }; current = l[i]
      default: return nil
      }
    }
    return current
  }

  // MARK: - Tests

  static let testNames: Set<String> = [
    "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "mapping", "sequence",
    "iterable", "truthy", "falsy",
  ]

  func test(_ name: String, _ input: TemplateValue, _ args: Arguments) throws(TemplateError) -> Bool {
    if case .undefined = input {
      switch name {
      case "defined": return false
      case "undefined": return true
      default: break
      }
    }
    if name == "defined" { return true }
    if name == "undefined" { return false }
    let (v, _) = try materialize(input)
    switch name {
    case "none": return v.isNull
    case "string": return v.stringValue != nil
    case "number": return Py.number(v) != nil
    case "integer": if case .int = v { return true } else { return false }
    case "float": if case .double = v { return true } else { return false }
    case "boolean": if case .bool = v { return true } else { return false }
    case "mapping": return v.mapValue != nil
    case "sequence", "iterable": return v.mapValue != nil || v.listValue != nil || v.stringValue != nil
    case "truthy": return Py.truthy(v)
    case "falsy": return !Py.truthy(v)
    default: throw TemplateError(.syntax, "no test named \(name: name)")
    }
  }
}
