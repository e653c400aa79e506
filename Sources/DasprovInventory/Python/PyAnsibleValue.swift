import DasprovCore

/// How Ansible stores what `literal_eval` returned (see `PyLiteral`).
extension PyObject {
  /// Ansible's `_parse_recursive_coerce_types_and_tag`: tuples and sets become lists, bytes
  /// become text (not trusted as a template: listed in `unsafe`), `...` and complex numbers
  /// become their `str()`.
  func ansibleValue(unsafe: inout [TaggedLeaf]) throws(EvalFailure) -> Value {
    switch self {
    case .none: return .null
    case .bool(let b): return .bool(b)
    case .int(let i): return .int(i)
    case .bigInt(let text): return .string(text)
    case .float(let d): return .double(d)
    case .complex(let re, let im): return .string(PyFormat.complexStr(re, im))
    case .str(let s): return .string(s)
    case .bytes(let b):
      guard let s = String(validating: b, as: UTF8.self) else { throw .malformed }
      unsafe.append(TaggedLeaf(path: [], tag: .unsafe))
      return .string(s)
    case .ellipsis: return .string("...")
    case .tuple(let items), .list(let items), .set(let items):
      var out: [Value] = []
      out.reserveCapacity(items.count)
      for item in items {
        var inner: [TaggedLeaf] = []
        out.append(try item.ansibleValue(unsafe: &inner))
        unsafe += inner.map { $0.under(.index(out.count - 1)) }
      }
      return .list(out)
    case .dict(let pairs):
      var out: [String: Value] = [:]
      var byKey: [String: [TaggedLeaf]] = [:]
      for (k, v) in pairs {
        let key = try k.jsonKey()
        var inner: [TaggedLeaf] = []
        out[key] = try v.ansibleValue(unsafe: &inner)
        byKey[key] = inner.map { $0.under(.key(key)) }
      }
      for key in byKey.keys.sorted() { unsafe += byKey[key] ?? [] }
      return .map(out)
    }
  }

  /// The key `json.dumps` writes for a dict key; other key types make it raise.
  private func jsonKey() throws(EvalFailure) -> String {
    switch self {
    case .str(let s): return s
    case .int(let i): return String(i)
    case .bigInt(let t): return t
    case .bool(let b): return b ? "true" : "false"
    case .none: return "null"
    case .float(let d): return PyFormat.floatRepr(d)
    default:
      throw .fatal("dict keys must be strings, numbers, booleans or None to be shown as JSON")
    }
  }
}
