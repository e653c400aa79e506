internal import CLibXML2

/// Read-only walks over libxml2's tree. The nodes belong to a `DocumentHandle` that the caller
/// keeps alive; nothing here frees or allocates libxml2 memory.
enum DOM {
  static func isElement(_ n: xmlNodePtr) -> Bool { n.pointee.type == XML_ELEMENT_NODE }
  static func isAttribute(_ n: xmlNodePtr) -> Bool { n.pointee.type == XML_ATTRIBUTE_NODE }

  static func asAttribute(_ n: xmlNodePtr) -> xmlAttrPtr {
    UnsafeMutableRawPointer(n).assumingMemoryBound(to: xmlAttr.self)
  }

  /// `prefix:local` as written (the prefix of a stripped default namespace is empty anyway).
  static func qualifiedName(_ n: xmlNodePtr) -> String {
    let local = n.pointee.name.map { String(cString: $0) } ?? ""
    let ns = isAttribute(n) ? asAttribute(n).pointee.ns : n.pointee.ns
    if let prefix = ns?.pointee.prefix { return String(cString: prefix) + ":" + local }
    return local
  }

  static func qualifiedName(_ a: xmlAttrPtr) -> String {
    qualifiedName(UnsafeMutableRawPointer(a).assumingMemoryBound(to: xmlNode.self))
  }

  /// Parsed text of a node: entities and character references resolved, CDATA included,
  /// comments and processing instructions left out — what an application reading it sees.
  static func textContent(_ n: xmlNodePtr) -> String {
    switch n.pointee.type {
    case XML_TEXT_NODE, XML_CDATA_SECTION_NODE, XML_COMMENT_NODE, XML_PI_NODE:
      return n.pointee.content.map { String(cString: $0) } ?? ""
    case XML_ENTITY_REF_NODE:
      // Only DTD-declared entities stay unexpanded (no NOENT); show them as written.
      return "&" + (n.pointee.name.map { String(cString: $0) } ?? "") + ";"
    default:
      var out = ""
      appendText(of: n.pointee.children, to: &out)
      return out
    }
  }

  private static func appendText(of first: xmlNodePtr?, to out: inout String) {
    var child = first
    while let c = child {
      switch c.pointee.type {
      case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
        if let content = c.pointee.content { out += String(cString: content) }
      case XML_ENTITY_REF_NODE:
        out += textContent(c)
      case XML_ELEMENT_NODE:
        appendText(of: c.pointee.children, to: &out)
      default:
        break
      }
      child = c.pointee.next
    }
  }

  static func attributes(_ element: xmlNodePtr) -> [xmlAttrPtr] {
    var out: [xmlAttrPtr] = []
    var a = element.pointee.properties
    while let attr = a {
      out.append(attr)
      a = attr.pointee.next
    }
    return out
  }

  /// The attribute written as `name` (a qualified name such as `svns:secretAlias` works too).
  static func attribute(_ element: xmlNodePtr, named name: String) -> xmlAttrPtr? {
    attributes(element).first { qualifiedName($0) == name }
  }

  static func value(_ attr: xmlAttrPtr) -> String {
    var out = ""
    appendText(of: attr.pointee.children, to: &out)
    return out
  }

  static func children(_ n: xmlNodePtr) -> [xmlNodePtr] {
    var out: [xmlNodePtr] = []
    var c = n.pointee.children
    while let child = c {
      out.append(child)
      c = child.pointee.next
    }
    return out
  }

  static func elementChildren(_ n: xmlNodePtr) -> [xmlNodePtr] { children(n).filter(isElement) }

  static func parentElement(_ n: xmlNodePtr) -> xmlNodePtr? {
    guard let p = n.pointee.parent, isElement(p) else { return nil }
    return p
  }

  /// Every element in document order (pre-order), without recursion: config files nest deep
  /// enough that recursion is fine, but a hostile file should not be able to blow the stack.
  static func elements(under root: xmlNodePtr) -> [xmlNodePtr] {
    var out: [xmlNodePtr] = []
    var stack: [xmlNodePtr] = [root]
    while let n = stack.popLast() {
      out.append(n)
      stack.append(contentsOf: elementChildren(n).reversed())
    }
    return out
  }

  // MARK: Namespaces

  /// Drops the default namespace from elements, unless the caller bound a prefix to its URI, so
  /// `/Server/Ports/Offset` matches in carbon.xml. Only the in-memory tree changes: the bytes,
  /// and so the offsets, stay exactly as they are.
  static func stripDefaultNamespaces(under root: xmlNodePtr, keeping uris: Set<String>) {
    for element in elements(under: root) {
      guard let ns = element.pointee.ns, ns.pointee.prefix == nil else { continue }
      let uri = ns.pointee.href.map { String(cString: $0) } ?? ""
      if !uris.contains(uri) { element.pointee.ns = nil }
    }
  }

  /// Prefixes the document declares (`xmlns:svns="…"`), first declaration winning, so XPaths
  /// can use them without the caller repeating the document's own bindings.
  static func declaredPrefixes(under root: xmlNodePtr) -> [(prefix: String, uri: String)] {
    var seen: Set<String> = []
    var out: [(String, String)] = []
    for element in elements(under: root) {
      var ns = element.pointee.nsDef
      while let n = ns {
        if let p = n.pointee.prefix, let href = n.pointee.href {
          let prefix = String(cString: p)
          if seen.insert(prefix).inserted { out.append((prefix, String(cString: href))) }
        }
        ns = n.pointee.next
      }
    }
    return out
  }

  // MARK: Readable paths

  /// A path a person can read in a diff, e.g. `/axisconfig/clustering/parameter[@name='domain']`:
  /// element names, with a predicate only where same-named siblings need one.
  static func readablePath(_ n: xmlNodePtr) -> String {
    if isAttribute(n) {
      let owner = n.pointee.parent.map(readablePath) ?? ""
      return owner + "/@" + qualifiedName(n)
    }
    guard isElement(n) else {
      let owner = n.pointee.parent.map(readablePath) ?? ""
      return owner + "/text()"
    }
    var steps: [String] = []
    var current: xmlNodePtr? = n
    while let c = current, isElement(c) {
      steps.append(qualifiedName(c) + disambiguation(c))
      current = c.pointee.parent
    }
    return "/" + steps.reversed().joined(separator: "/")
  }

  /// Attributes that usually name an element in config files, tried in this order.
  private static let keyAttributes = ["name", "id", "key", "path", "url", "class", "type"]

  private static func disambiguation(_ n: xmlNodePtr) -> String {
    guard let parent = parentElement(n) else { return "" }
    let name = qualifiedName(n)
    let peers = elementChildren(parent).filter { qualifiedName($0) == name }
    guard peers.count > 1 else { return "" }
    let others = peers.filter { $0 != n }
    for key in keyAttributes {
      guard let attr = attribute(n, named: key) else { continue }
      let v = value(attr)
      if !others.contains(where: { o in attribute(o, named: key).map(value) == v }) {
        return "[@\(key)=\(XPathLiteral.quote(v))]"
      }
    }
    if let nameChild = elementChildren(n).first(where: { qualifiedName($0) == "name" }) {
      let v = textContent(nameChild)
      let clash = others.contains { o in
        elementChildren(o).contains { qualifiedName($0) == "name" && textContent($0) == v }
      }
      if !clash { return "[name=\(XPathLiteral.quote(v))]" }
    }
    return "[\((peers.firstIndex(of: n) ?? 0) + 1)]"
  }

  // MARK: Canonical form

  /// The content two elements must share to count as "the same" for ensure/set-children:
  /// names, attributes (any order), and text, ignoring comments, PIs and whitespace-only text.
  static func canonical(_ element: xmlNodePtr) -> CanonicalElement {
    var attrs: [String: String] = [:]
    for a in attributes(element) { attrs[qualifiedName(a)] = value(a) }
    var children: [CanonicalElement.Child] = []
    var text = ""
    func flush() {
      if !text.utf8.allSatisfy(isXMLSpace) { children.append(.text(text)) }
      text = ""
    }
    for c in self.children(element) {
      switch c.pointee.type {
      case XML_ELEMENT_NODE:
        flush()
        children.append(.element(canonical(c)))
      case XML_TEXT_NODE, XML_CDATA_SECTION_NODE, XML_ENTITY_REF_NODE:
        text += textContent(c)
      default:
        break  // comments and PIs do not count; text on either side of them joins up
      }
    }
    flush()
    return CanonicalElement(name: qualifiedName(element), attributes: attrs, children: children)
  }
}

/// An element reduced to what matters for "is this already in place?".
struct CanonicalElement: Hashable {
  indirect enum Child: Hashable {
    case element(CanonicalElement)
    case text(String)
  }
  var name: String
  var attributes: [String: String]
  var children: [Child]
}

enum XPathLiteral {
  /// An XPath 1.0 string literal for `s`; `concat()` when it holds both kinds of quote.
  static func quote(_ s: String) -> String {
    if !s.contains("'") { return "'\(s)'" }
    if !s.contains("\"") { return "\"\(s)\"" }
    let parts = s.split(separator: "'", omittingEmptySubsequences: false).map { "'\($0)'" }
    return "concat(" + parts.joined(separator: ", \"'\", ") + ")"
  }
}
