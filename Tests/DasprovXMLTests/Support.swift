import DasprovTestSupport
import Foundation
import Testing

@testable import DasprovXML

/// The pristine DAS 3.1.0 config files, found relative to this source file so the tests run
/// from any checkout that sits next to `shared/`.
enum Pack {
  static let confDirectory: URL = {
    var url = URL(fileURLWithPath: #filePath)
    // …/<package>/Tests/DasprovXMLTests/Support.swift → the package root's parent.
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("shared/das-pack/3.1.0/repository/conf")
  }()

  static let files = [
    "axis2/axis2.xml", "carbon.xml", "datasources/analytics-datasources.xml",
    "datasources/master-datasources.xml", "event-processor.xml", "registry.xml", "user-mgt.xml",
  ]

  static func bytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: confDirectory.appendingPathComponent(name)))
  }
}

extension [UInt8] {
  var text: String { String(decoding: self, as: UTF8.self) }
}

/// An independent reader: libxml2's own command-line tool, run on the edited bytes.
enum XMLLint {
  /// Runs `xmllint ARGS file` on `bytes`; returns exit status and standard output.
  static func run(_ arguments: [String], on bytes: [UInt8]) async throws -> (Int32, String) {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dasprov-xmllint-\(UUID().uuidString).xml")
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let r = try await Command.run("/usr/bin/xmllint", arguments + [url.path])
    return (r.status, r.stdoutText)
  }

  static func parses(_ bytes: [UInt8]) async throws -> Bool {
    try await run(["--noout", "--nonet"], on: bytes).0 == 0
  }

  /// The value of an XPath `string(…)` / `count(…)` expression, as xmllint prints it.
  static func value(_ expression: String, in bytes: [UInt8]) async throws -> String {
    var s = try await run(["--nonet", "--xpath", expression], on: bytes).1
    if s.hasSuffix("\n") { s.removeLast() }
    return s
  }
}

/// True when `edited` keeps the bytes of `original` before `allowed` and after it, exactly:
/// the edit stayed inside that region of the original.
func onlyChanged(_ original: [UInt8], _ edited: [UInt8], within allowed: Range<Int>) -> Bool {
  let tail = original.count - allowed.upperBound
  guard edited.count >= allowed.lowerBound + tail else { return false }
  return original[..<allowed.lowerBound] == edited[..<allowed.lowerBound]
    && original[allowed.upperBound...] == edited[(edited.count - tail)...]
}

/// Byte spans of what `xpath` selects in `bytes` (ASCII files: working offsets are file offsets).
func spans(_ xpath: String, in bytes: [UInt8], file: String = "test.xml") throws -> [ElementSpan] {
  let doc = try ParsedXML(bytes: bytes, file: file)
  return try doc.tree.nodes(xpath).map { try doc.tree.span(of: $0) }
}

func onlySpan(_ xpath: String, in bytes: [UInt8]) throws -> ElementSpan {
  let found = try spans(xpath, in: bytes)
  try #require(found.count == 1, "\(xpath) should select one element, selected \(found.count)")
  return found[0]
}

/// Applies `ops`, then checks that the bytes outside `allowed` (a range of the original) are
/// untouched, that re-applying changes nothing, and that the result parses.
@discardableResult
func applyChecked(
  _ ops: [XMLEditOperation], to original: [UInt8], file: String, within allowed: Range<Int>?,
  sourceLocation: SourceLocation = #_sourceLocation
) throws -> XMLEditResult {
  let result = try XMLEditor.apply(ops, to: original, file: file)
  if let allowed {
    #expect(
      onlyChanged(original, result.bytes, within: allowed),
      "bytes outside the edited region \(allowed) changed", sourceLocation: sourceLocation)
  }
  let again = try XMLEditor.apply(ops, to: result.bytes, file: file)
  #expect(
    again.changes == [], "second run changed: \(again.changes)", sourceLocation: sourceLocation)
  #expect(again.bytes == result.bytes, "second run altered bytes", sourceLocation: sourceLocation)
  _ = try ParsedXML(bytes: result.bytes, file: file)
  return result
}
