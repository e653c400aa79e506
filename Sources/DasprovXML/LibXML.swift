internal import CLibXML2

// The only file that calls libxml2's parser and XPath engine. Every handle has one `final class`
// owner that frees it in `deinit`; owners of dependent handles keep their parent alive.
// Nothing here is public: callers see `ParsedXML`, `XMLEditor` and `XMLError`.

/// `xmlInitParser` must run once before any thread parses; Swift runs a global's initialiser
/// exactly once, even when several threads get here together.
private let libxml2Initialised: Void = { xmlInitParser() }()

/// What libxml2 reported during one parse or one XPath evaluation.
///
/// Collected per call — parser errors through the parser context's own SAX `serror`, XPath and
/// stray errors through the calling thread's structured handler, installed for that call only —
/// never from libxml2's global last-error, so hosts planned on parallel threads cannot see each
/// other's errors.
final class ErrorCollector {
  struct Entry {
    var message: String
    var line: Int
    var column: Int
    /// `xmlErrorLevel`: 1 warning, 2 error, 3 fatal.
    var level: Int
    /// libxml2's extra detail: for XPath errors, the expression and the failing offset.
    var str1: String?
    var int1: Int
  }

  var entries: [Entry] = []

  /// The first error (not warning): with no recovery, that is the one that stopped libxml2.
  var firstError: Entry? { entries.first { $0.level >= 2 } }

  /// Copies the error out at once: libxml2 reuses the struct for the next one.
  /// The corresponding C type is `xmlError`.
  func record(_ e: UnsafePointer<xmlError>) {
    let message = e.pointee.message.map { String(cString: $0) } ?? "unknown libxml2 error"
    entries.append(
      Entry(
        message: message.trimmingTrailingNewlines, line: Int(e.pointee.line),
        column: Int(e.pointee.int2), level: Int(e.pointee.level.rawValue),
        str1: e.pointee.str1.map { String(cString: $0) }, int1: Int(e.pointee.int1)))
  }

  /// Runs `body` with this collector as the calling thread's structured error handler: XPath
  /// errors arrive here, as do the few errors (memory, tree) that bypass a parser context's own
  /// handler. libxml2 keeps this handler per thread, and `body` is synchronous, so no other
  /// thread is affected; the previous handler is restored afterwards.
  /// The corresponding C function is `xmlSetStructuredErrorFunc`.
  func whileInstalled<R>(_ body: () -> R) -> R {
    let savedHandler = __xmlStructuredError().pointee
    let savedContext = __xmlStructuredErrorContext().pointee
    xmlSetStructuredErrorFunc(Unmanaged.passUnretained(self).toOpaque(), collectThreadError)
    defer { xmlSetStructuredErrorFunc(savedContext, savedHandler) }
    return withExtendedLifetime(self) { body() }
  }
}

extension String {
  fileprivate var trimmingTrailingNewlines: String {
    var s = Substring(self)
    while let last = s.last, last == "\n" || last == "\r" || last == " " { s = s.dropLast() }
    return String(s)
  }
}

/// Thread handler: `userData` is the collector itself.
private let collectThreadError: xmlStructuredErrorFunc = { userData, error in
  guard let userData, let error else { return }
  Unmanaged<ErrorCollector>.fromOpaque(userData).takeUnretainedValue().record(error)
}

/// Owns a parsed `xmlDoc`; freed with `xmlFreeDoc`.
final class DocumentHandle {
  let raw: xmlDocPtr
  init(_ raw: xmlDocPtr) { self.raw = raw }
  deinit { xmlFreeDoc(raw) }

  var root: xmlNodePtr? { xmlDocGetRootElement(raw) }
}

/// Where one element's tags sit in the bytes libxml2 parsed.
struct ElementSpan: Hashable {
  var name: String
  /// The `<` of the start tag.
  var start: Int
  /// Just after the start tag's `>`.
  var startTagEnd: Int
  /// The `<` of `</name>`; equals `startTagEnd` for `<name/>`.
  var endTagStart: Int
  /// Just after the last `>` of the element.
  var end: Int
  var selfClosing: Bool

  var content: Range<Int> { startTagEnd..<endTagStart }
  var range: Range<Int> { start..<end }
}

/// Records byte spans while libxml2's own SAX2 tree builder makes the DOM, so every element
/// node maps directly to its bytes (no separate pass, no guessing by document order).
final class SpanRecorder {
  let bytes: [UInt8]
  let errors = ErrorCollector()
  var spans: [ElementSpan] = []
  /// `xmlNode` address → index in `spans`.
  var indexByNode: [UnsafeMutableRawPointer: Int] = [:]
  /// Open elements; -1 for elements inside entity text, which have no bytes in this file.
  private var open: [Int] = []
  /// The first offset check that failed; the parse is then rejected as an internal error.
  var failure: String?
  /// The context parsing the file itself. libxml2 parses internal entity text in a context of
  /// its own that shares this SAX handler; offsets from there are not offsets in the file.
  var mainContext: xmlParserCtxtPtr?

  init(bytes: [UInt8]) { self.bytes = bytes }

  /// At the start-element callback the parser stands inside or just past the start tag, and
  /// attribute values cannot contain `<`, so the tag's `<` is the last one before `position`.
  func startElement(node: xmlNodePtr?, name: String, position: Int, inEntity: Bool) {
    guard let node, !inEntity else {
      open.append(-1)
      return
    }
    var i = min(position, bytes.count) - 1
    while i >= 0, bytes[i] != ASCII.lt { i -= 1 }
    guard i >= 0, let tag = TagScanner.startTag(in: bytes, at: i), tag.name == name else {
      fail("start tag of <\(name)> not found before offset \(position)")
      open.append(-1)
      return
    }
    let span = ElementSpan(
      name: name, start: i, startTagEnd: tag.end, endTagStart: tag.end, end: tag.end,
      selfClosing: tag.selfClosing)
    indexByNode[UnsafeMutableRawPointer(node)] = spans.count
    open.append(spans.count)
    spans.append(span)
  }

  /// At the end-element callback the parser stands just past the end tag (or `/>`); the last
  /// `<` before it opens `</name` — or is the element's own `<` when it was self-closing.
  func endElement(position: Int) {
    guard let index = open.popLast(), index >= 0 else { return }
    var span = spans[index]
    var i = min(position, bytes.count) - 1
    while i >= 0, bytes[i] != ASCII.lt { i -= 1 }
    if i == span.start {
      guard span.selfClosing else { return fail("end of <\(span.name)> not found") }
    } else {
      guard TagScanner.tagNameMatches(bytes, at: i, name: Array(span.name.utf8), closing: true),
        let gt = bytes[i...].firstIndex(of: ASCII.gt)
      else { return fail("end tag of <\(span.name)> not found before offset \(position)") }
      span.endTagStart = i
      span.end = gt + 1
    }
    spans[index] = span
  }

  private func fail(_ message: String) {
    if failure == nil { failure = message }
  }
}

/// The parser's position in the document's own bytes: the parser may drop consumed input from
/// its buffer, and `consumed` counts what it dropped.
private func currentOffset(_ ctxt: xmlParserCtxtPtr) -> Int {
  guard let input = ctxt.pointee.input, let cur = input.pointee.cur, let base = input.pointee.base
  else { return 0 }
  return Int(input.pointee.consumed) + (cur - base)
}

private func recorder(_ ctx: UnsafeMutableRawPointer?) -> (xmlParserCtxtPtr, SpanRecorder)? {
  guard let ctx else { return nil }
  let ctxt = ctx.assumingMemoryBound(to: xmlParserCtxt.self)
  guard let state = ctxt.pointee._private else { return nil }
  return (ctxt, Unmanaged<SpanRecorder>.fromOpaque(state).takeUnretainedValue())
}

private func qualifiedName(_ local: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?)
  -> String
{
  let name = local.map { String(cString: $0) } ?? ""
  guard let prefix else { return name }
  return String(cString: prefix) + ":" + name
}

/// SAX2 start-element: let libxml2 build the node, then record where its tag is.
private let onStartElement: startElementNsSAX2Func = {
  ctx, localname, prefix, uri, nbNamespaces, namespaces, nbAttributes, nbDefaulted, attributes in
  xmlSAX2StartElementNs(
    ctx, localname, prefix, uri, nbNamespaces, namespaces, nbAttributes, nbDefaulted, attributes)
  guard let (ctxt, state) = recorder(ctx) else { return }
  state.startElement(
    node: ctxt.pointee.node, name: qualifiedName(localname, prefix),
    position: currentOffset(ctxt), inEntity: ctxt != state.mainContext || ctxt.pointee.inputNr > 1)
}

/// SAX2 end-element: record where the end tag is, then let libxml2 close the node.
private let onEndElement: endElementNsSAX2Func = { ctx, localname, prefix, uri in
  if let (ctxt, state) = recorder(ctx) { state.endElement(position: currentOffset(ctxt)) }
  xmlSAX2EndElementNs(ctx, localname, prefix, uri)
}

/// Parser errors arrive with the parser context as `userData`.
private let onParserError: xmlStructuredErrorFunc = { userData, error in
  guard let error, let (_, state) = recorder(userData) else { return }
  state.errors.record(error)
}

/// Owns one `xmlParserCtxt`; freed with `xmlFreeParserCtxt`.
final class ParserContext {
  let raw: xmlParserCtxtPtr

  /// The corresponding C function is `xmlCreateMemoryParserCtxt`, which copies the bytes.
  init?(bytes: [UInt8]) {
    guard
      let raw = bytes.withUnsafeBufferPointer({ buffer in
        buffer.baseAddress.flatMap { base in
          base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
            xmlCreateMemoryParserCtxt($0, Int32(buffer.count))
          }
        }
      })
    else { return nil }
    self.raw = raw
  }

  deinit {
    if let doc = raw.pointee.myDoc { xmlFreeDoc(doc) }
    xmlFreeParserCtxt(raw)
  }
}

enum LibXML {
  /// No network, no entity substitution, no DTD loading; blanks and comments stay in the tree.
  /// IGNORE_ENC: the bytes handed over are always UTF-8 (see `DeclaredEncoding`), so offsets
  /// are offsets into those very bytes, even in files that declare ISO-8859-1.
  static let parseOptions = Int32(
    XML_PARSE_NONET.rawValue | XML_PARSE_IGNORE_ENC.rawValue | XML_PARSE_BIG_LINES.rawValue)

  /// Parses UTF-8 bytes into a DOM plus the byte span of every element.
  /// The corresponding C function is `xmlParseDocument`.
  static func parse(_ bytes: [UInt8], file: String) throws(XMLError) -> (
    DocumentHandle, SpanRecorder
  ) {
    _ = libxml2Initialised
    guard !bytes.isEmpty else { throw XMLError(.malformed, file: file, "the file is empty") }
    guard bytes.count < Int(Int32.max) else {
      throw XMLError(.unsupported, file: file, "the file is too large to parse")
    }
    guard let context = ParserContext(bytes: bytes) else {
      throw XMLError(.internal, file: file, "libxml2 could not create a parser context")
    }
    let ctxt = context.raw
    let state = SpanRecorder(bytes: bytes)
    _ = xmlCtxtUseOptions(ctxt, parseOptions)
    guard let sax = ctxt.pointee.sax else {
      throw XMLError(.internal, file: file, "libxml2 parser context has no SAX handler")
    }
    // The SAX block belongs to this context alone, so changing it affects no other parse.
    sax.pointee.startElementNs = onStartElement
    sax.pointee.endElementNs = onEndElement
    sax.pointee.serror = onParserError
    state.mainContext = ctxt
    ctxt.pointee._private = Unmanaged.passUnretained(state).toOpaque()
    let status = withExtendedLifetime(state) {
      state.errors.whileInstalled { xmlParseDocument(ctxt) }
    }
    ctxt.pointee._private = nil
    let wellFormed = ctxt.pointee.wellFormed != 0
    guard let docPtr = ctxt.pointee.myDoc else {
      throw malformed(state.errors.firstError, file: file)
    }
    ctxt.pointee.myDoc = nil
    let doc = DocumentHandle(docPtr)
    if status != 0 || !wellFormed || state.errors.firstError != nil {
      throw malformed(state.errors.firstError, file: file)
    }
    if let failure = state.failure {
      throw XMLError(.internal, file: file, "could not locate element bytes: \(failure)")
    }
    return (doc, state)
  }

  private static func malformed(_ e: ErrorCollector.Entry?, file: String) -> XMLError {
    guard let e else { return XMLError(.malformed, file: file, "not well-formed XML") }
    return XMLError(
      .malformed, file: file, e.message, line: e.line > 0 ? e.line : nil,
      column: e.column > 0 ? e.column : nil)
  }
}

/// Owns an `xmlXPathContext` over one document; freed with `xmlXPathFreeContext`.
/// Holds the document so the context can never outlive it.
final class XPathContext {
  let document: DocumentHandle
  let raw: xmlXPathContextPtr
  private let errors = ErrorCollector()

  /// The corresponding C functions are `xmlXPathNewContext` and `xmlXPathRegisterNs`.
  init(document: DocumentHandle, namespaces: [(prefix: String, uri: String)], file: String)
    throws(XMLError)
  {
    _ = libxml2Initialised
    guard let raw = xmlXPathNewContext(document.raw) else {
      throw XMLError(.internal, file: file, "libxml2 could not create an XPath context")
    }
    self.document = document
    self.raw = raw
    for (prefix, uri) in namespaces where xmlXPathRegisterNs(raw, prefix, uri) != 0 {
      throw XMLError(.invalidXPath, file: file, "cannot register namespace prefix '\(prefix)'")
    }
  }

  deinit { xmlXPathFreeContext(raw) }

  /// Evaluates `expression` with `node` as the context node (the document when `nil`).
  ///
  /// Errors are caught by the calling thread's structured handler, installed for this call
  /// only: libxml2 2.9 formats an XPath error's text only on that path (a per-context
  /// `error` callback receives it without a message), and the handler is per thread.
  /// The corresponding C function is `xmlXPathEvalExpression`.
  func evaluate(_ expression: String, at node: xmlNodePtr?, file: String) throws(XMLError)
    -> XPathObject
  {
    errors.entries.removeAll()
    raw.pointee.node =
      node
      ?? UnsafeMutableRawPointer(document.raw).assumingMemoryBound(
        to: xmlNode.self)
    let result = errors.whileInstalled { xmlXPathEvalExpression(expression, raw) }
    guard let result else {
      var message = "invalid xpath '\(expression)'"
      if let e = errors.firstError {
        message += ": \(e.message)"
        if e.str1 == expression, e.int1 >= 0 { message += " at character \(e.int1 + 1)" }
      }
      throw XMLError(.invalidXPath, file: file, message, xpath: expression)
    }
    return XPathObject(context: self, raw: result)
  }
}

/// Owns an `xmlXPathObject`; freed with `xmlXPathFreeObject`. Its nodes live in the document,
/// which the context (held here) keeps alive.
final class XPathObject {
  let context: XPathContext
  let raw: xmlXPathObjectPtr

  init(context: XPathContext, raw: xmlXPathObjectPtr) {
    self.context = context
    self.raw = raw
  }

  deinit { xmlXPathFreeObject(raw) }

  var isNodeSet: Bool { raw.pointee.type == XPATH_NODESET }

  /// The selected nodes in document order (empty for non-node-set results).
  var nodes: [xmlNodePtr] {
    guard isNodeSet, let set = raw.pointee.nodesetval, let tab = set.pointee.nodeTab else {
      return []
    }
    return (0..<Int(set.pointee.nodeNr)).compactMap { tab[$0] }
  }

  /// A string, number or boolean result as XPath's `string()` would render it.
  /// The corresponding C function is `xmlXPathCastToString`'s logic, done here to avoid `xmlFree`.
  var scalar: String? {
    switch raw.pointee.type {
    case XPATH_STRING: return raw.pointee.stringval.map { String(cString: $0) } ?? ""
    case XPATH_BOOLEAN: return raw.pointee.boolval != 0 ? "true" : "false"
    case XPATH_NUMBER:
      let v = raw.pointee.floatval
      if v.isNaN { return "NaN" }
      if v.isInfinite { return v > 0 ? "Infinity" : "-Infinity" }
      if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
      return String(v)
    default: return nil
    }
  }
}
