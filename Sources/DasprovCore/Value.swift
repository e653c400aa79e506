import Foundation

/// A variable's value: what inventories, module defaults, facts and expressions produce.
///
/// It mirrors the JSON/YAML data model Ansible users know, so inventory variables keep the
/// types Ansible gives them.
public enum Value: Sendable, Hashable, CustomStringConvertible {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case list([Value])
  case map([String: Value])

  /// The text a value becomes when interpolated into a string or a file.
  ///
  /// Booleans print as `true`/`false`, as the DAS config files spell them.
  public var description: String {
    switch self {
    case .null: return ""
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .double(let d):
      if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) + ".0" }
      return String(d)
    case .string(let s): return s
    case .list(let items): return items.map(\.description).joined(separator: ",")
    case .map: return jsonString(sortedKeys: true)
    }
  }

  /// A short name for error messages ("expected a list, got a string").
  public var typeName: String {
    switch self {
    case .null: return "none"
    case .bool: return "boolean"
    case .int: return "integer"
    case .double: return "number"
    case .string: return "string"
    case .list: return "list"
    case .map: return "map"
    }
  }

  /// The type name with its article, for messages: "an integer", "a string", "none".
  public var typeWithArticle: String {
    switch self {
    case .null: return "none"
    case .int: return "an integer"
    default: return "a \(typeName)"
    }
  }

  public var isNull: Bool { if case .null = self { return true } else { return false } }

  public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
  public var intValue: Int? {
    switch self {
    case .int(let i): return i
    case .string(let s): return Int(s.trimmingCharacters(in: .whitespaces))
    case .double(let d) where d == d.rounded(): return Int(d)
    default: return nil
    }
  }
  public var listValue: [Value]? { if case .list(let l) = self { return l } else { return nil } }
  public var mapValue: [String: Value]? { if case .map(let m) = self { return m } else { return nil } }

  /// Truthiness as in Jinja/Ansible: empty, zero, false and none are false.
  ///
  /// The strings "false", "no", "off" and "0" are false too: INI `[group:vars]` values arrive
  /// as strings, and `cep_persistence=false` there must mean false.
  public var isTruthy: Bool {
    switch self {
    case .null: return false
    case .bool(let b): return b
    case .int(let i): return i != 0
    case .double(let d): return d != 0
    case .string(let s):
      let lowered = s.lowercased()
      return !(lowered.isEmpty || ["false", "no", "off", "0"].contains(lowered))
    case .list(let l): return !l.isEmpty
    case .map(let m): return !m.isEmpty
    }
  }

  /// Converts to Foundation objects for JSON and for the template engine.
  public var foundationObject: Any {
    switch self {
    case .null: return NSNull()
    case .bool(let b): return b
    case .int(let i): return i
    case .double(let d): return d
    case .string(let s): return s
    case .list(let l): return l.map(\.foundationObject)
    case .map(let m): return m.mapValues(\.foundationObject)
    }
  }

  /// Builds a value from decoded JSON/YAML objects.
  public init(foundationObject object: Any?) {
    switch object {
    case nil, is NSNull: self = .null
    case let b as Bool: self = .bool(b)
    case let i as Int: self = .int(i)
    case let d as Double: self = .double(d)
    case let s as String: self = .string(s)
    case let a as [Any?]: self = .list(a.map { Value(foundationObject: $0) })
    case let m as [String: Any?]: self = .map(m.mapValues { Value(foundationObject: $0) })
    case let n as NSNumber: self = .double(n.doubleValue)
    default: self = .string(String(describing: object!))
    }
  }

  /// JSON text of this value. Keys are sorted so output is stable across runs.
  public func jsonString(sortedKeys: Bool = true, pretty: Bool = false) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(4096)
    JSONWriter(sortedKeys: sortedKeys, pretty: pretty).write(self, into: &out, indent: 0)
    return String(decoding: out, as: UTF8.self)
  }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(arrayLiteral elements: Value...) { self = .list(elements) }
  public init(dictionaryLiteral elements: (String, Value)...) {
    self = .map(Dictionary(elements, uniquingKeysWith: { _, b in b }))
  }
  public init(nilLiteral: ()) { self = .null }
}

/// A small JSON writer: Foundation's JSONSerialization reorders nothing we need, but it turns
/// `Bool` into `1`/`0` on Linux in some paths and escapes `/`; this one writes what Ansible writes.
///
/// It writes UTF-8 bytes and sorts each map's entries once (by their keys' bytes when the keys
/// are ASCII, the order `String` comparison gives them): a `--json` report of 64 hosts is
/// thousands of values.
struct JSONWriter {
  var sortedKeys: Bool
  var pretty: Bool

  func write(_ value: Value, into out: inout [UInt8], indent: Int) {
    switch value {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .int(let i): out.append(contentsOf: String(i).utf8)
    case .double(let d): out.append(contentsOf: (d.isFinite ? String(d) : "null").utf8)
    case .string(let s): JSONString.append(s, to: &out)
    case .list(let items):
      if items.isEmpty { return out.append(contentsOf: "[]".utf8) }
      out.append(UInt8(ascii: "["))
      for (i, item) in items.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        newline(&out, indent + 1)
        write(item, into: &out, indent: indent + 1)
      }
      newline(&out, indent)
      out.append(UInt8(ascii: "]"))
    case .map(let m):
      if m.isEmpty { return out.append(contentsOf: "{}".utf8) }
      out.append(UInt8(ascii: "{"))
      var entries = Array(m)
      if sortedKeys { Self.sort(&entries) }
      for (i, entry) in entries.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        newline(&out, indent + 1)
        JSONString.append(entry.key, to: &out)
        out.append(contentsOf: (pretty ? ": " : ":").utf8)
        write(entry.value, into: &out, indent: indent + 1)
      }
      newline(&out, indent)
      out.append(UInt8(ascii: "}"))
    }
  }

  /// By key: byte order for ASCII keys (the same as `String`'s), `String` order otherwise.
  static func sort(_ entries: inout [(key: String, value: Value)]) {
    if entries.allSatisfy({ $0.key.utf8.allSatisfy { $0 < 0x80 } }) {
      entries.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    } else {
      entries.sort { $0.key < $1.key }
    }
  }

  private func newline(_ out: inout [UInt8], _ indent: Int) {
    guard pretty else { return }
    out.append(10)
    out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 4 * indent))
  }
}

extension Value {
  /// Whether any string inside this value contains `text`.
  public func containsText(_ text: String) -> Bool {
    switch self {
    case .string(let s): return s.contains(text)
    case .list(let items): return items.contains { $0.containsText(text) }
    case .map(let m): return m.values.contains { $0.containsText(text) }
    case .null, .bool, .int, .double: return false
    }
  }
}
