import DasprovCore

/// Why an XML read or edit failed, with libxml2's own message where libxml2 found the problem.
///
/// One typed error for the whole layer, so the task layer can turn any failure into a diagnostic
/// that names the file (and the operation) instead of a bare "edit failed".
public struct XMLError: Error, Sendable, Hashable, CustomStringConvertible {
  public enum Kind: String, Sendable, Hashable {
    /// The file (or a fragment) is not well-formed XML; `message` is libxml2's.
    case malformed
    /// libxml2 rejected the XPath expression.
    case invalidXPath
    /// An XPath that must select something selected nothing.
    case noMatch
    /// An XPath that must select exactly one element selected several.
    case ambiguous
    /// The `ensureElement` path is not of the simple form it accepts.
    case invalidPath
    /// The edit cannot be done without losing data (e.g. setting text on an element with children).
    case unsupported
    /// The file declares an encoding this layer cannot edit byte-for-byte.
    case unsupportedEncoding
    /// An inserted fragment is still not found by its XPath, so every run would insert it again.
    case notIdempotent
    /// A bug in this layer (an offset check failed); the file was not changed.
    case `internal`
  }

  public var kind: Kind
  /// The XML file the error is about (or a fragment's label).
  public var file: String
  public var message: String
  /// Where in `file` libxml2 found the problem (1-based), for `.malformed`.
  public var line: Int?
  public var column: Int?
  /// The XPath (or element path) involved, if any.
  public var xpath: String?
  /// Which operation of an `XMLEditor.apply` call failed (0-based), so callers can point at it.
  public var operationIndex: Int?

  public init(
    _ kind: Kind, file: String, _ message: String, line: Int? = nil, column: Int? = nil,
    xpath: String? = nil, operationIndex: Int? = nil
  ) {
    self.kind = kind
    self.file = file
    self.message = message
    self.line = line
    self.column = column
    self.xpath = xpath
    self.operationIndex = operationIndex
  }

  /// `FILE:LINE:COL: MESSAGE` when the position is known, else `FILE: MESSAGE`.
  public var description: String {
    var location = file
    if let line {
      location += ":\(line)"
      if let column { location += ":\(column)" }
    }
    return "\(location): \(message)"
  }

  /// The contract's diagnostic: positioned in the XML file when libxml2 gave a line.
  public var diagnostic: Diagnostic {
    if let line {
      return .error(message, at: SourceRange(file: file, line: line, column: max(1, column ?? 1)))
    }
    return .error("\(file): \(message)")
  }
}
