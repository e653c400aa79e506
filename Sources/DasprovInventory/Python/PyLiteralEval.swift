/// The Python objects literal_eval builds.
indirect enum PyObject {
  case none
  case bool(Bool)
  case int(Int)
  case bigInt(String)  // beyond 64 bits: kept as its source text
  case float(Double)
  case complex(Double, Double)
  case str(String)
  case bytes([UInt8])
  case ellipsis
  case tuple([PyObject])
  case list([PyObject])
  case set([PyObject])
  case dict([(PyObject, PyObject)])
}

enum EvalFailure: Error {
  /// literal_eval raises ValueError: Ansible keeps the text.
  case malformed
  /// Python raises something Ansible does not catch: the inventory fails.
  case fatal(String)
}

/// `ast.literal_eval`'s `_convert`, over `PyNode`.
enum PyLiteralEvaluator {
  static func convert(_ node: PyNode) throws(EvalFailure) -> PyObject {
    switch node {
    case .int, .float, .imaginary, .str, .bytes, .constant:
      return try constant(node)
    case .tuple(let items): return .tuple(try items.map(convert))
    case .list(let items): return .list(try items.map(convert))
    case .set(let items):
      var out: [PyObject] = []
      for item in items {
        let v = try convert(item)
        try requireHashable(v)
        if !out.contains(where: { pyEqual($0, v) }) { out.append(v) }
      }
      return .set(out)
    case .emptySetCall: return .set([])
    case .dict(let pairs):
      var out: [(PyObject, PyObject)] = []
      for (k, v) in pairs {
        let key = try convert(k)
        let value = try convert(v)
        try requireHashable(key)
        if let at = out.firstIndex(where: { pyEqual($0.0, key) }) {
          out[at].1 = value  // Python keeps the first key object and the last value
        } else {
          out.append((key, value))
        }
      }
      return .dict(out)
    case .binary(let add, let l, let r):
      let left = try signedNumber(l)
      let right = try number(r)
      guard case .complex(let re, let im) = right else { throw .malformed }
      switch left {
      case .int(let a): return .complex(Double(a) + (add ? re : -re), add ? im : -im)
      case .float(let a): return .complex(a + (add ? re : -re), add ? im : -im)
      default: throw .malformed
      }
    case .unary:
      return try signedNumber(node)
    }
  }

  private static func constant(_ node: PyNode) throws(EvalFailure) -> PyObject {
    switch node {
    case .int(let digits, let radix):
      if let v = Int(digits, radix: radix) { return .int(v) }
      // Python 3.11 refuses to convert more than 4300 decimal digits.
      if radix == 10, digits.count > 4300 { throw .malformed }
      return .bigInt(digits.isEmpty ? "0" : radix == 10 ? digits : "0" + radixLetter(radix) + digits)
    case .float(let text):
      return .float(Double(text) ?? .infinity)
    case .imaginary(let text):
      return .complex(0, Double(text) ?? .infinity)
    case .str(let s): return .str(s)
    case .bytes(let b): return .bytes(b)
    case .constant(let c): return c
    default: throw .malformed
    }
  }

  private static func radixLetter(_ radix: Int) -> String {
    radix == 16 ? "x" : radix == 8 ? "o" : "b"
  }

  /// `_convert_num`: an int, float or complex constant (not a bool).
  private static func number(_ node: PyNode) throws(EvalFailure) -> PyObject {
    switch node {
    case .int, .float, .imaginary: return try constant(node)
    default: throw .malformed
    }
  }

  /// `_convert_signed_num`: a number with at most one sign.
  private static func signedNumber(_ node: PyNode) throws(EvalFailure) -> PyObject {
    guard case .unary(let negative, let operand) = node else { return try number(node) }
    let v = try number(operand)
    guard negative else { return v }
    switch v {
    case .int(let i): return .int(-i)
    case .bigInt(let text): return .bigInt(text.hasPrefix("-") ? String(text.dropFirst()) : "-" + text)
    case .float(let d): return .float(-d)
    case .complex(let re, let im): return .complex(-re, -im)
    default: throw .malformed
    }
  }

  private static func requireHashable(_ v: PyObject) throws(EvalFailure) {
    switch v {
    case .list: throw .fatal("unhashable type: 'list'")
    case .set: throw .fatal("unhashable type: 'set'")
    case .dict: throw .fatal("unhashable type: 'dict'")
    case .tuple(let items): for item in items { try requireHashable(item) }
    default: break
    }
  }
}

/// Python `==` between literal objects (so `{1, 1.0, True}` has one element).
private func pyEqual(_ a: PyObject, _ b: PyObject) -> Bool {
  func numeric(_ v: PyObject) -> (Double, Double)? {
    switch v {
    case .bool(let x): return (x ? 1 : 0, 0)
    case .int(let x): return (Double(x), 0)
    case .float(let x): return (x, 0)
    case .complex(let re, let im): return (re, im)
    default: return nil
    }
  }
  if case .int(let x) = a, case .int(let y) = b { return x == y }
  if let x = numeric(a), let y = numeric(b) { return x == y }
  switch (a, b) {
  case (.none, .none), (.ellipsis, .ellipsis): return true
  case (.str(let x), .str(let y)): return x == y
  case (.bytes(let x), .bytes(let y)): return x == y
  case (.bigInt(let x), .bigInt(let y)): return x == y
  case (.tuple(let x), .tuple(let y)):
    return x.count == y.count && zip(x, y).allSatisfy { pyEqual($0, $1) }
  default: return false
  }
}
