/// One desired-state edit of an XML file. Each is idempotent: applied to its own result it
/// finds nothing to do.
public enum XMLEditOperation: Sendable, Hashable {
  /// Text of every selected element (escaped on write). Selecting attributes sets their values.
  /// Selecting nothing is an error: use `ensureElement` first to create the element.
  case setText(xpath: String, value: String)
  /// An attribute on every selected element, added after the last attribute if missing.
  case setAttribute(xpath: String, name: String, value: String)
  /// Removes an attribute from every selected element; selecting nothing is fine.
  case removeAttribute(xpath: String, name: String)
  /// Creates what is missing of an absolute path such as `/wso2registry/dbConfig[@name='gov']/dataSource`.
  /// Predicates `[@attr='v']` become attributes and `[child='v']` child elements of created
  /// elements; new elements go last in their parent, indented like their siblings.
  case ensureElement(path: String)
  /// Makes the one element `xpath` selects equal to `fragment` (one element of XML text, already
  /// rendered and escaped). Missing: the fragment is inserted at `position`, and `xpath` must
  /// then select it. Different (names, attributes, non-blank text; comments and indentation do
  /// not count): it is replaced. Equal: nothing changes.
  case ensureFragment(xpath: String, fragment: String, position: FragmentPosition)
  /// Makes the element children of every selected element equal to the fragment's top-level
  /// elements (hazelcast `<members>`), replacing them as a block when they differ.
  case setChildren(xpath: String, fragment: String)
  /// Removes every selected element (with its line, when it has one to itself) or attribute;
  /// selecting nothing is fine.
  case remove(xpath: String)
}

/// Where `ensureFragment` inserts a missing fragment. The XPath must select exactly one element.
public enum FragmentPosition: Sendable, Hashable {
  /// As the last child of the element.
  case appendTo(parentXPath: String)
  /// As the next sibling of the element.
  case after(xpath: String)
  /// As the previous sibling of the element.
  case before(xpath: String)
}

/// One change an edit made, in terms a person reads in a diff:
/// `/axisconfig/clustering/@enable: false → true`.
///
/// `old` and `new` carry values verbatim, secrets included: mask before printing.
public struct XMLChange: Sendable, Hashable, CustomStringConvertible {
  public enum Kind: String, Sendable, Hashable {
    /// An element's text; `old`/`new` are the parsed texts.
    case text
    /// An attribute's value; `old` is `nil` when it was added, `new` when it was removed.
    case attribute
    /// An element was inserted; `new` is its XML.
    case inserted
    /// An element (or, for `setChildren`, its children) was replaced; both as XML.
    case replaced
    /// An element was removed; `old` is its XML.
    case removed
  }

  /// The node's readable path, e.g. `/axisconfig/clustering/parameter[@name='domain']`.
  public var path: String
  public var kind: Kind
  public var old: String?
  public var new: String?

  public init(path: String, kind: Kind, old: String? = nil, new: String? = nil) {
    self.path = path
    self.kind = kind
    self.old = old
    self.new = new
  }

  public var description: String {
    switch kind {
    case .text, .attribute:
      return
        "\(path): \(old.map { "'\($0)'" } ?? "(absent)") → \(new.map { "'\($0)'" } ?? "(absent)")"
    case .inserted: return "\(path): inserted"
    case .replaced: return "\(path): replaced"
    case .removed: return "\(path): removed"
    }
  }
}

/// The edited bytes and what changed. No changes means `bytes` are the input, byte for byte.
public struct XMLEditResult: Sendable, Hashable {
  public var bytes: [UInt8]
  public var changes: [XMLChange]

  public init(bytes: [UInt8], changes: [XMLChange]) {
    self.bytes = bytes
    self.changes = changes
  }

  public var changed: Bool { !changes.isEmpty }
}
