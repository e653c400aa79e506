internal import CLibXML2

/// Applies `XMLEditOperation`s by splicing bytes into the original text.
///
/// libxml2 finds the nodes (XPath over its DOM); the SAX pass that built that DOM recorded
/// where each element's tags are; each edit then replaces only the bytes that must change.
/// The document is never re-serialised, so everything the operations do not touch — comments,
/// indentation, attribute order and quotes, CRLF, the XML declaration — keeps its exact bytes.
public enum XMLEditor {
  /// The libxml2 the edits run on (its version, e.g. "20914"): part of what a record of an
  /// edited file is keyed by.
  public static let libraryVersion = __xmlParserVersion()?.pointee.map { String(cString: $0) } ?? LIBXML_DOTTED_VERSION

  /// Applies `operations` in order; each sees the bytes the previous ones produced.
  ///
  /// - Parameters:
  ///   - file: the name used in errors (the remote path is a good choice).
  ///   - namespaces: prefix → URI bindings for prefixed XPaths. Default namespaces are
  ///     ignored by XPath unless a prefix here is bound to their URI.
  /// - Returns: the new bytes and the changes; no changes means the input bytes unchanged.
  public static func apply(
    _ operations: [XMLEditOperation], to original: [UInt8], file: String,
    namespaces: [String: String] = [:]
  ) throws(XMLError) -> XMLEditResult {
    let encoding = try DeclaredEncoding.detect(original, file: file)
    var document = try SpannedDocument(
      bytes: encoding.decode(original), file: file, namespaces: namespaces)
    var changes: [XMLChange] = []
    for (index, operation) in operations.enumerated() {
      do throws(XMLError) {
        let editor = Edit(
          document: document, encoding: encoding, namespaces: namespaces, operation: index)
        let plan = try editor.plan(operation)
        guard !plan.splices.isEmpty else { continue }
        let (bytes, shift) = try Splice.apply(plan.splices, to: document.bytes, file: file)
        let next: SpannedDocument
        do throws(XMLError) {
          next = try SpannedDocument(bytes: bytes, file: file, namespaces: namespaces)
        } catch {
          throw XMLError(
            .internal, file: file, "the edit produced XML that does not parse: \(error.message)")
        }
        try plan.check?(next)
        for pending in plan.changes {
          var change = pending.change
          if let (spliceStart, inside) = pending.insertedAt,
            let node = next.element(startingAt: shift(spliceStart) + inside)
          {
            change.path = DOM.readablePath(node)
          }
          changes.append(change)
        }
        document = next
      } catch {
        var e = error
        if e.operationIndex == nil { e.operationIndex = index }
        throw e
      }
    }
    if changes.isEmpty { return XMLEditResult(bytes: original, changes: []) }
    return XMLEditResult(bytes: try encoding.encode(document.bytes, file: file), changes: changes)
  }
}

/// Replace `range` of the old bytes with `replacement`.
struct Splice {
  var range: Range<Int>
  var replacement: [UInt8]

  /// Applies non-overlapping splices; also returns where each old offset that starts a splice
  /// (or is untouched) ends up in the new bytes.
  static func apply(_ splices: [Splice], to b: [UInt8], file: String) throws(XMLError) -> (
    [UInt8], (Int) -> Int
  ) {
    let sorted = splices.sorted {
      ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound)
    }
    var out: [UInt8] = []
    out.reserveCapacity(b.count + sorted.reduce(0) { $0 + $1.replacement.count })
    var cursor = 0
    for s in sorted {
      guard s.range.lowerBound >= cursor, s.range.upperBound <= b.count else {
        throw XMLError(.internal, file: file, "overlapping edits at offset \(s.range.lowerBound)")
      }
      out += b[cursor..<s.range.lowerBound]
      out += s.replacement
      cursor = s.range.upperBound
    }
    out += b[cursor...]
    let shift: (Int) -> Int = { offset in
      var delta = 0
      for s in sorted where s.range.lowerBound < offset {
        delta += s.replacement.count - s.range.count
      }
      return offset + delta
    }
    return (out, shift)
  }
}

/// What one operation will do: splices, the changes to report, and a check on the result.
struct EditPlan {
  struct Pending {
    var change: XMLChange
    /// For insertions: the splice's start in the old bytes and the new element's `<` inside
    /// the replacement, resolved to a readable path once the result is parsed.
    var insertedAt: (spliceStart: Int, inside: Int)?
  }

  var splices: [Splice] = []
  var changes: [Pending] = []
  var check: ((SpannedDocument) throws(XMLError) -> Void)?

  mutating func add(_ splice: Splice, _ change: XMLChange, inserted inside: Int? = nil) {
    splices.append(splice)
    changes.append(
      Pending(change: change, insertedAt: inside.map { (splice.range.lowerBound, $0) }))
  }
}
