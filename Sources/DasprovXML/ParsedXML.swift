internal import CLibXML2

/// One parse of UTF-8 bytes: libxml2's tree, each element's byte span, and an XPath context.
///
/// The editor builds one per operation, so each operation sees the bytes the previous one left.
final class SpannedDocument {
  let file: String
  let bytes: [UInt8]
  let document: DocumentHandle
  let spans: [ElementSpan]
  private let indexByNode: [UnsafeMutableRawPointer: Int]
  private let xpath: XPathContext

  init(bytes: [UInt8], file: String, namespaces: [String: String]) throws(XMLError) {
    let (document, recorder) = try LibXML.parse(bytes, file: file)
    guard let root = document.root else {
      throw XMLError(.malformed, file: file, "the document has no root element")
    }
    DOM.stripDefaultNamespaces(under: root, keeping: Set(namespaces.values))
    var bindings = DOM.declaredPrefixes(under: root).filter { namespaces[$0.prefix] == nil }
    bindings += namespaces.sorted { $0.key < $1.key }.map { (prefix: $0.key, uri: $0.value) }
    self.file = file
    self.bytes = bytes
    self.document = document
    self.spans = recorder.spans
    self.indexByNode = recorder.indexByNode
    self.xpath = try XPathContext(document: document, namespaces: bindings, file: file)
  }

  var root: xmlNodePtr? { document.root }

  func select(_ expression: String, at node: xmlNodePtr? = nil) throws(XMLError) -> XPathObject {
    try xpath.evaluate(expression, at: node, file: file)
  }

  /// The nodes an XPath selects; an error if it computes a number, string or boolean instead.
  func nodes(_ expression: String, at node: xmlNodePtr? = nil) throws(XMLError) -> [xmlNodePtr] {
    let result = try select(expression, at: node)
    guard result.isNodeSet else {
      throw XMLError(
        .invalidXPath, file: file,
        "xpath '\(expression)' computes a value instead of selecting nodes",
        xpath: expression)
    }
    return result.nodes
  }

  func span(of element: xmlNodePtr) throws(XMLError) -> ElementSpan {
    guard let i = indexByNode[UnsafeMutableRawPointer(element)] else {
      throw XMLError(
        .unsupported, file: file,
        "\(DOM.readablePath(element)) comes from an entity expansion and has no bytes of its own")
    }
    return spans[i]
  }

  func startTag(of element: xmlNodePtr) throws(XMLError) -> StartTag {
    let s = try span(of: element)
    guard let tag = TagScanner.startTag(in: bytes, at: s.start) else {
      throw XMLError(
        .internal, file: file, "cannot read the start tag of \(DOM.readablePath(element))")
    }
    return tag
  }

  /// The element whose start tag begins at `offset`, to name freshly inserted elements.
  func element(startingAt offset: Int) -> xmlNodePtr? {
    guard let root else { return nil }
    return DOM.elements(under: root).first {
      indexByNode[UnsafeMutableRawPointer($0)].map { spans[$0].start } == offset
    }
  }

  /// Text of elements, values of attributes, or the scalar an expression computes.
  func values(_ expression: String) throws(XMLError) -> [String] {
    let result = try select(expression)
    if let scalar = result.scalar { return [scalar] }
    return result.nodes.map { n in
      DOM.isAttribute(n) ? DOM.value(DOM.asAttribute(n)) : DOM.textContent(n)
    }
  }
}

/// XML bytes parsed for queries: what the planner reads before deciding on edits.
///
/// Named `ParsedXML` rather than `XMLDocument` so it never collides with Foundation's
/// `XMLDocument` on macOS in a file that imports both.
///
/// Parsing never touches the network, expands no entities and loads no DTD. Default namespaces
/// are ignored by XPath (write `/Server/Ports/Offset` for carbon.xml) unless `namespaces` binds
/// a prefix to that URI; prefixes the document declares can be used as they are.
public final class ParsedXML {
  public let file: String
  /// The bytes as given.
  public let bytes: [UInt8]
  let encoding: DeclaredEncoding
  let tree: SpannedDocument

  /// - Parameters:
  ///   - file: the name used in errors (the remote path is a good choice).
  ///   - namespaces: prefix → URI bindings for prefixed XPaths.
  public init(bytes: [UInt8], file: String, namespaces: [String: String] = [:]) throws(XMLError) {
    self.file = file
    self.bytes = bytes
    encoding = try DeclaredEncoding.detect(bytes, file: file)
    tree = try SpannedDocument(bytes: encoding.decode(bytes), file: file, namespaces: namespaces)
  }

  /// Text of each selected element (all descendant text), value of each selected attribute,
  /// or the single value of an expression such as `count(…)` or `string(…)`.
  public func values(_ xpath: String) throws(XMLError) -> [String] {
    try tree.values(xpath)
  }

  /// How many nodes `xpath` selects.
  public func count(_ xpath: String) throws(XMLError) -> Int {
    try tree.nodes(xpath).count
  }

  /// The name of the root element, as written.
  public var rootName: String { tree.root.map(DOM.qualifiedName) ?? "" }
}
