import DasprovCore

/// What Ansible's INI plugin makes of one `key=value` value.
///
/// The plugin runs Python's `ast.literal_eval` on every value (inline host variables and `:vars`
/// lines alike) and keeps the raw text when that fails. This type reproduces that: it accepts
/// exactly the Python literal subset (numbers, strings and bytes with every prefix and escape,
/// `True`/`False`/`None`/`...`, tuples, lists, sets, dicts, `set()`, a sign on a number and
/// `real ± imaginary`), and anything else — a syntax error or a non-literal expression — stays
/// the original string, as it does in Ansible.
enum PyLiteral {
  /// The outcome of evaluating one value.
  enum Outcome: Equatable {
    /// A literal, converted the way Ansible stores it.
    case value(Value)
    /// Not a literal: Ansible keeps the text unchanged.
    case raw
    /// A literal Python refuses with an exception Ansible does not catch (such as an unhashable
    /// set element), which fails the whole inventory.
    case error(String)
  }

  /// The variable Ansible stores for `text`.
  static func evaluate(_ text: String) throws(PyLiteralError) -> Value {
    var unsafe: [TaggedLeaf] = []
    return try evaluate(text, unsafe: &unsafe)
  }

  /// The variable Ansible stores for `text`, and where in it bytes literals became (untrusted)
  /// text.
  static func evaluate(_ text: String, unsafe: inout [TaggedLeaf]) throws(PyLiteralError) -> Value {
    switch outcome(text, unsafe: &unsafe) {
    case .value(let v): return v
    case .raw: return .string(text)
    case .error(let message): throw PyLiteralError(message: message)
    }
  }

  static func outcome(_ text: String) -> Outcome {
    var unsafe: [TaggedLeaf] = []
    return outcome(text, unsafe: &unsafe)
  }

  private static func outcome(_ text: String, unsafe: inout [TaggedLeaf]) -> Outcome {
    if let fast = fastPath(text) { return .value(fast) }
    if obviouslyRaw(text) { return .raw }
    var parser = PyLiteralParser(Array(text.unicodeScalars))
    guard let node = parser.parseInput() else { return .raw }
    do throws(EvalFailure) {
      let py = try PyLiteralEvaluator.convert(node)
      return try .value(py.ansibleValue(unsafe: &unsafe))
    } catch {
      switch error {
      case .malformed: return .raw
      case .fatal(let message): return .error(message)
      }
    }
  }

  /// Most inventory values are plain words or small decimal numbers; skip the parser for them.
  private static func fastPath(_ text: String) -> Value? {
    let utf8 = text.utf8
    guard let first = utf8.first, utf8.count <= 18 else { return nil }
    if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9")
      && utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
    {
      return Int(text).map(Value.int)
    }
    if text == "0" { return .int(0) }
    // A lowercase word is a Python name (or keyword), never a literal: the text stays.
    let isLowerWord = utf8.allSatisfy {
      ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 == UInt8(ascii: "_")
    }
    if isLowerWord { return .string(text) }
    return nil
  }

  /// Text that cannot be a literal, found without parsing: no quotes, and either an address-like
  /// run of digits and dots (`10.0.0.1`), or no digits, brackets or literal keywords at all
  /// (`/opt/wso2das`, `analyzers,indexers`).
  private static func obviouslyRaw(_ text: String) -> Bool {
    var dots = 0
    var digitsAndDotsOnly = true
    var hasDigit = false
    for b in text.utf8 {
      switch b {
      case UInt8(ascii: "'"), UInt8(ascii: "\""): return false
      case UInt8(ascii: "0")...UInt8(ascii: "9"): hasDigit = true
      case UInt8(ascii: "."): dots += 1
      case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"): return false
      default: digitsAndDotsOnly = false
      }
    }
    if digitsAndDotsOnly { return dots >= 2 }
    if hasDigit { return false }
    return !(text.contains("True") || text.contains("False") || text.contains("None")
      || text.contains("..."))
  }
}

/// A literal Python would reject with an uncaught exception (Ansible then fails the inventory).
struct PyLiteralError: Error, Equatable {
  var message: String
}
