import DasprovCore
import Foundation

/// Python's semantics for the values templates compute with: `str()`, `repr()`, truth, `==`,
/// ordering and arithmetic, as Jinja evaluates them in Ansible.
///
/// These differ from `Value.description` and `Value.isTruthy` on purpose: in a template,
/// `"x{{ flag }}"` is `xTrue` and the string `"false"` is true, exactly as in Ansible.
enum Py {
  /// `str(value)`. Maps print in key order (dasprov's maps do not keep insertion order).
  static func str(_ v: Value) -> String {
    switch v {
    case .string(let s): return s
    default: return repr(v)
    }
  }

  /// `repr(value)`.
  static func repr(_ v: Value) -> String {
    switch v {
    case .null: return "None"
    case .bool(let b): return b ? "True" : "False"
    case .int(let i): return String(i)
    case .double(let d): return PyFormat.floatRepr(d)
    case .string(let s): return reprString(s)
    case .list(let items): return "[" + items.map(repr).joined(separator: ", ") + "]"
    case .map(let m):
      let entries = PyFormat.sortedKeys(m.keys).map { reprString($0) + ": " + repr(m[$0]!) }
      return "{" + entries.joined(separator: ", ") + "}"
    }
  }

  /// Python picks single quotes unless the text has a `'` and no `"`.
  static func reprString(_ s: String) -> String {
    let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where Character(scalar) == quote: out += "\\" + String(quote)
      case _ where scalar.value < 0x20 || scalar.value == 0x7F:
        out += String(format: "\\x%02x", scalar.value)
      default: out.unicodeScalars.append(scalar)
      }
    }
    out.append(quote)
    return out
  }

  /// Python truth: empty, zero, `False` and `None` are false; any non-empty string is true.
  static func truthy(_ v: Value) -> Bool {
    switch v {
    case .null: return false
    case .bool(let b): return b
    case .int(let i): return i != 0
    case .double(let d): return d != 0
    case .string(let s): return !s.isEmpty
    case .list(let l): return !l.isEmpty
    case .map(let m): return !m.isEmpty
    }
  }

  /// The number a value is for arithmetic (`True` is 1, as in Python).
  static func number(_ v: Value) -> Double? {
    switch v {
    case .bool(let b): return b ? 1 : 0
    case .int(let i): return Double(i)
    case .double(let d): return d
    default: return nil
    }
  }

  private static func integer(_ v: Value) -> Int? {
    switch v {
    case .bool(let b): return b ? 1 : 0
    case .int(let i): return i
    default: return nil
    }
  }

  /// Python `==`: numbers compare by value across int, float and bool.
  static func equal(_ a: Value, _ b: Value) -> Bool {
    if let x = number(a), let y = number(b) { return x == y }
    switch (a, b) {
    case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
    case (.map(let x), .map(let y)):
      return x.count == y.count && x.allSatisfy { k, v in y[k].map { equal(v, $0) } ?? false }
    default: return a == b
    }
  }

  /// Python's `<`; `nil` where Python raises TypeError.
  static func less(_ a: Value, _ b: Value) -> Bool? {
    if let x = number(a), let y = number(b) { return x < y }
    switch (a, b) {
    case (.string(let x), .string(let y)): return PyFormat.codePointLess(x, y)
    case (.list(let x), .list(let y)):
      for (l, r) in zip(x, y) where !equal(l, r) { return less(l, r) }
      return x.count < y.count
    default: return nil
    }
  }

  static func compare(_ op: TemplateOperator, _ a: Value, _ b: Value) throws(TemplateError) -> Bool {
    switch op {
    case .equal: return equal(a, b)
    case .notEqual: return !equal(a, b)
    case .isIn, .notIn:
      let found: Bool
      switch b {
      case .string(let s):
        guard case .string(let needle) = a else { throw invalid("'in <string>' requires a string as left operand, not \(a.typeName)") }
        found = needle.isEmpty || s.contains(needle)
      case .list(let l): found = l.contains { equal($0, a) }
      case .map(let m): found = a.stringValue.map { m[$0] != nil } ?? false
      default: throw invalid("argument of type \(typeName(b)) is not iterable")
      }
      return op == .isIn ? found : !found
    default:
      let (x, y) = op == .less || op == .lessEqual ? (a, b) : (b, a)
      guard let lt = less(x, y) else {
        throw invalid("'\(op.rawValue)' not supported between \(typeName(a)) and \(typeName(b))")
      }
      return op == .less || op == .greater ? lt : (lt || equal(x, y))
    }
  }

  /// `+ - * / // % **` and `~`, with Python's types: `/` is always a float, `//` and `%` floor.
  static func arithmetic(_ op: TemplateOperator, _ a: Value, _ b: Value) throws(TemplateError) -> Value {
    if op == .concat { return .string(str(a) + str(b)) }
    switch (op, a, b) {
    case (.add, .string(let x), .string(let y)): return .string(x + y)
    case (.add, .list(let x), .list(let y)): return .list(x + y)
    case (.modulo, .string(let format), _): return .string(try percentFormat(format, b))
    case (.multiply, .string(let x), _) where integer(b) != nil:
      let n = max(0, integer(b)!)
      let (total, overflow) = x.utf8.count.multipliedReportingOverflow(by: n)
      guard n <= 1 || (!overflow && total <= maxRepeated) else {
        throw invalid("a repeated string longer than \(maxRepeated) bytes")
      }
      return .string(String(repeating: x, count: n))
    case (.multiply, .list(let x), _) where integer(b) != nil:
      let n = max(0, integer(b)!)
      let (total, overflow) = x.count.multipliedReportingOverflow(by: n)
      guard n <= 1 || (!overflow && total <= maxRepeated) else {
        throw invalid("a repeated list longer than \(maxRepeated) items")
      }
      return .list(Array([[Value]](repeating: x, count: n).joined()))
    default: break
    }
    guard number(a) != nil, number(b) != nil else {
      throw invalid("unsupported operand types for \(op.rawValue): \(typeName(a)) and \(typeName(b))")
    }
    if let x = integer(a), let y = integer(b) {
      switch op {
      case .add: return overflowChecked(x.addingReportingOverflow(y))
      case .subtract: return overflowChecked(x.subtractingReportingOverflow(y))
      case .multiply: return overflowChecked(x.multipliedReportingOverflow(by: y))
      case .floorDivide, .modulo:
        guard y != 0 else { throw invalid("integer division or modulo by zero") }
        var q = x / y
        if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }
        return .int(op == .floorDivide ? q : x - q * y)
      case .power where y >= 0:
        if abs(x) <= 1 { return .int(x == 0 ? (y == 0 ? 1 : 0) : (x == 1 || y % 2 == 0 ? 1 : -1)) }
        var result = 1
        for _ in 0..<y {
          let (r, o) = result.multipliedReportingOverflow(by: x)
          guard !o else { return .double(pow(Double(x), Double(y))) }
          result = r
        }
        return .int(result)
      default: break
      }
    }
    let x = number(a)!, y = number(b)!
    switch op {
    case .add: return .double(x + y)
    case .subtract: return .double(x - y)
    case .multiply: return .double(x * y)
    case .divide:
      guard y != 0 else { throw invalid("division by zero") }
      return .double(x / y)
    case .floorDivide, .modulo:
      guard y != 0 else { throw invalid("float division or modulo by zero") }
      let q = (x / y).rounded(.down)
      return .double(op == .floorDivide ? q : x - q * y)
    case .power: return .double(pow(x, y))
    default: throw invalid("unsupported operator \(op.rawValue)")
    }
  }

  /// `format % args` for `%s`, `%r`, `%d`/`%i` and `%%`. A list supplies one argument per
  /// conversion when the counts match (templates write tuples, which dasprov reads as lists).
  static func percentFormat(_ format: String, _ args: Value) throws(TemplateError) -> String {
    let chars = Array(format)
    let conversions = zip(chars, chars.dropFirst()).filter { $0.0 == "%" && $0.1 != "%" }.count
    var queue: [Value] = conversions != 1 ? (args.listValue ?? [args]) : (args.listValue.flatMap { $0.count == 1 ? $0 : nil } ?? [args])
    var out = ""
    var i = 0
    while i < chars.count {
      guard chars[i] == "%", i + 1 < chars.count else { out.append(chars[i]); i += 1; continue }
      let conversion = chars[i + 1]
      i += 2
      if conversion == "%" { out += "%"; continue }
      guard !queue.isEmpty else { throw invalid("not enough arguments for format string") }
      let arg = queue.removeFirst()
      switch conversion {
      case "s": out += str(arg)
      case "r": out += repr(arg)
      case "d", "i":
        guard let n = number(arg), n.isFinite else { throw invalid("%\(conversion) format: a real number is required, not \(typeName(arg))") }
        out += String(Int(n.rounded(.towardZero)))
      default: throw invalid("unsupported format character '\(conversion)'")
      }
    }
    guard queue.isEmpty else { throw invalid("not all arguments converted during string formatting") }
    return out
  }

  private static func overflowChecked(_ r: (partialValue: Int, overflow: Bool)) -> Value {
    r.overflow ? .double(Double(r.partialValue)) : .int(r.partialValue)
  }

  /// `'x' * n` beyond this is refused: an inventory value that size is a mistake, not a value.
  static let maxRepeated = 1 << 20

  /// Python's name for a value's type, for error messages.
  static func typeName(_ v: Value) -> String {
    switch v {
    case .null: return "'NoneType'"
    case .bool: return "'bool'"
    case .int: return "'int'"
    case .double: return "'float'"
    case .string: return "'str'"
    case .list: return "'list'"
    case .map: return "'dict'"
    }
  }

  static func invalid(_ message: String) -> TemplateError {
    TemplateError(.invalid, "\(message)")
  }
}
