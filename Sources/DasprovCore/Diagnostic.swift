import Foundation
import Synchronization

/// How bad a diagnostic is. Errors stop the run before any host is touched; warnings do not.
public enum Severity: String, Sendable, Hashable {
  case error, warning, note
}

/// The kinds of diagnostic that code reacts to, so callers switch on data, never on message text.
///
/// Most diagnostics only inform the user and carry no code.
public enum DiagnosticCode: String, Sendable, Hashable {
  /// An expression read a host fact (`os_family`, …) before the host's facts were gathered:
  /// the decision waits for the fact round trip.
  case needsHostFacts
  /// An expression or template read a variable that no scope defines.
  case undefinedVariable
  /// A module has no template of the requested name.
  case noTemplate
  /// What the facts show means a node could not start as configured (no JDBC driver, a server
  /// that would run as root, no JDK): the run stops before any host changes.
  case nodeCannotStart
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
  /// UTF-8 offsets of the names in `message` (see `DiagnosticMessage`): the secret mask leaves
  /// them alone.
  public var nameSpans: [Range<Int>] = []
  /// What kind of problem this is, for code that handles it; nil for purely informative ones.
  public var code: DiagnosticCode?

  public init(
    _ severity: Severity, _ message: String, at range: SourceRange? = nil, notes: [Diagnostic] = [],
    code: DiagnosticCode? = nil
  ) {
    self.severity = severity
    self.message = message
    self.range = range
    self.notes = notes
    self.code = code
  }

  public static func error(
    _ message: String, at range: SourceRange? = nil, notes: [Diagnostic] = [], code: DiagnosticCode? = nil
  ) -> Diagnostic {
    Diagnostic(.error, message, at: range, notes: notes, code: code)
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
  private struct State {
    var texts: [String: [Substring]] = [:]
    var redacted: Set<String> = []
    var nameFinders: [String: NameFinder] = [:]
  }

  private let state = Mutex(State())

  /// Finds the spans of a source line that are names (of groups, hosts, variables), so the
  /// secret mask leaves them alone in quoted lines; each reader knows its own syntax.
  public typealias NameFinder = @Sendable (String) -> [Range<String.Index>]

  public init() {}

  /// Remembers `file`'s text. A `redacted` file is never quoted, not even from disk: its
  /// diagnostics point into a decrypted vault file, whose lines are secret.
  public func register(file: String, text: String, redacted isRedacted: Bool = false, names: NameFinder? = nil) {
    let lines = isRedacted ? [] : Self.split(text)
    state.withLock { state in
      state.texts[file] = lines
      if isRedacted { state.redacted.insert(file) } else { state.redacted.remove(file) }
      state.nameFinders[file] = names
    }
  }

  /// The name spans of `line`, a line of `file`; none when its reader did not say.
  public func names(in line: String, of file: String) -> [Range<String.Index>] {
    state.withLock { $0.nameFinders[file] }?(line) ?? []
  }

  /// The text of line `line` (1-based) of `file`, without its line ending.
  public func line(_ line: Int, of file: String) -> String? {
    let (cached, hidden) = state.withLock { ($0.texts[file], $0.redacted.contains(file)) }
    if hidden { return nil }
    let lines: [Substring]
    if let cached {
      lines = cached
    } else if let data = FileManager.default.contents(atPath: file),
      let text = String(data: data, encoding: .utf8)
    {
      lines = Self.split(text)
      state.withLock { $0.texts[file] = lines }
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
  /// Masks secrets in messages and quoted lines — where they stand as values, not in names.
  public var masker: SecretMasker?

  public init(sources: SourceFiles, color: Bool = false, masker: SecretMasker? = nil) {
    self.sources = sources
    self.color = color
    self.masker = masker
  }

  /// `FILE:LINE:COL: error: MESSAGE`, then the source line and a caret line when the file is known.
  public func render(_ d: Diagnostic) -> String {
    var out = ""
    let label = colored(d.severity.rawValue + ":", for: d.severity)
    let message = masker.map { $0.mask(d.message, excluding: d.nameRanges) } ?? d.message
    if let range = d.range {
      out += "\(range.start): \(label) \(message)\n"
      if let line = sources.line(range.line, of: range.file) {
        let quoted = MaskedLine(line, masker: masker, names: sources.names(in: line, of: range.file))
        let (column, length) = quoted.span(column: range.column, length: range.length)
        out += quoted.text + "\n"
        out += caretLine(for: quoted.text, column: column, length: length) + "\n"
      }
    } else {
      out += "\(label) \(message)\n"
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
