import Foundation
import Synchronization

/// How bad a diagnostic is. Errors stop the run before any host is touched; warnings do not.
public enum Severity: String, Sendable, Hashable {
  case error, warning, note
}

/// One problem found in a file dasprov read (inventory, DSL, template) or in the run itself.
///
/// Diagnostics are data; `DiagnosticRenderer` turns them into the text users read, in the
/// contract's format: `FILE:LINE:COL: error: MESSAGE`, the source line, a caret line.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
  public var severity: Severity
  public var message: String
  /// Where the problem is. `nil` for problems that belong to no file (e.g. a host).
  public var range: SourceRange?
  /// Follow-up lines, such as "first defined here".
  public var notes: [Diagnostic]

  public init(
    _ severity: Severity, _ message: String, at range: SourceRange? = nil, notes: [Diagnostic] = []
  ) {
    self.severity = severity
    self.message = message
    self.range = range
    self.notes = notes
  }

  public static func error(_ message: String, at range: SourceRange? = nil, notes: [Diagnostic] = [])
    -> Diagnostic
  {
    Diagnostic(.error, message, at: range, notes: notes)
  }

  public static func warning(
    _ message: String, at range: SourceRange? = nil, notes: [Diagnostic] = []
  ) -> Diagnostic {
    Diagnostic(.warning, message, at: range, notes: notes)
  }

  public static func note(_ message: String, at range: SourceRange? = nil) -> Diagnostic {
    Diagnostic(.note, message, at: range)
  }

  /// The one-line form, without the source excerpt.
  public var description: String {
    if let range { return "\(range.start): \(severity.rawValue): \(message)" }
    return "\(severity.rawValue): \(message)"
  }
}

/// Several diagnostics reported together, so one run shows every problem it found.
public struct DiagnosticList: Error, Sendable, CustomStringConvertible {
  public var diagnostics: [Diagnostic]

  public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
  public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
  public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Collects diagnostics while a reader recovers and goes on, so one run reports many problems.
public struct DiagnosticSink: Sendable {
  public private(set) var diagnostics: [Diagnostic] = []

  public init() {}

  public mutating func add(_ d: Diagnostic) { diagnostics.append(d) }
  public mutating func add(contentsOf ds: [Diagnostic]) { diagnostics.append(contentsOf: ds) }
  public mutating func error(_ message: String, at range: SourceRange?, notes: [Diagnostic] = []) {
    add(.error(message, at: range, notes: notes))
  }
  public mutating func warning(_ message: String, at range: SourceRange?) {
    add(.warning(message, at: range))
  }

  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

  /// Throws the collected diagnostics when any of them is an error.
  public func throwIfErrors() throws(DiagnosticList) {
    if hasErrors { throw DiagnosticList(diagnostics) }
  }
}

/// The text of every file dasprov has read, so diagnostics can quote the offending line.
///
/// Readers register what they parsed; the renderer falls back to reading the file from disk.
public final class SourceFiles: Sendable {
  // A lock, not an actor: diagnostics are rendered from synchronous code on any thread.
  private let texts = Mutex<[String: [Substring]]>([:])

  public static let shared = SourceFiles()

  public init() {}

  public func register(file: String, text: String) {
    let lines = Self.split(text)
    texts.withLock { $0[file] = lines }
  }

  /// The text of line `line` (1-based) of `file`, without its line ending.
  public func line(_ line: Int, of file: String) -> String? {
    let cached = texts.withLock { $0[file] }
    let lines: [Substring]
    if let cached {
      lines = cached
    } else if let data = FileManager.default.contents(atPath: file),
      let text = String(data: data, encoding: .utf8)
    {
      lines = Self.split(text)
      texts.withLock { $0[file] = lines }
    } else {
      return nil
    }
    guard line >= 1, line <= lines.count else { return nil }
    return String(lines[line - 1])
  }

  private static func split(_ text: String) -> [Substring] {
    // Split on the newline byte: "\r\n" is one Character in Swift, so a Character split would
    // leave a CRLF file as one line. The "\r" is then dropped from each line.
    var lines: [Substring] = []
    var start = text.startIndex
    for index in text.utf8.indices where text.utf8[index] == UInt8(ascii: "\n") {
      var line = text[start..<index]
      if line.utf8.last == UInt8(ascii: "\r") { line = line.dropLast() }
      lines.append(line)
      start = text.utf8.index(after: index)
    }
    lines.append(text[start...])
    return lines
  }
}

/// Turns diagnostics into the text users read.
public struct DiagnosticRenderer: Sendable {
  public var sources: SourceFiles
  public var color: Bool

  public init(sources: SourceFiles = .shared, color: Bool = false) {
    self.sources = sources
    self.color = color
  }

  /// `FILE:LINE:COL: error: MESSAGE`, then the source line and a caret line when the file is known.
  public func render(_ d: Diagnostic) -> String {
    var out = ""
    let label = colored(d.severity.rawValue + ":", for: d.severity)
    if let range = d.range {
      out += "\(range.start): \(label) \(d.message)\n"
      if let line = sources.line(range.line, of: range.file) {
        out += line + "\n"
        out += caretLine(for: line, column: range.column, length: range.length) + "\n"
      }
    } else {
      out += "\(label) \(d.message)\n"
    }
    for note in d.notes { out += render(note) }
    return out
  }

  public func render(_ list: [Diagnostic]) -> String { list.map(render).joined() }

  /// Spaces (tabs where the source has tabs, so the caret lines up) then `^~~~`.
  func caretLine(for line: String, column: Int, length: Int) -> String {
    var prefix = ""
    for (i, ch) in line.enumerated() where i < column - 1 {
      prefix.append(ch == "\t" ? "\t" : " ")
    }
    if column - 1 > line.count { prefix += String(repeating: " ", count: column - 1 - line.count) }
    let available = max(1, line.count - (column - 1))
    let width = max(1, min(length, available))
    return prefix + "^" + String(repeating: "~", count: width - 1)
  }

  private func colored(_ text: String, for severity: Severity) -> String {
    guard color else { return text }
    let code: String
    switch severity {
    case .error: code = "1;31"
    case .warning: code = "1;35"
    case .note: code = "1;36"
    }
    return "\u{1B}[\(code)m\(text)\u{1B}[0m"
  }
}
