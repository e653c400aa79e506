import DasprovCore
import Foundation
import Synchronization

/// A remote program ready to send: one of the `.sh` files of Programs/ with its parameters set,
/// its includes (`. ./prologue.sh`) inlined, and its steps — calls of the file's functions —
/// placed where the file says `# @steps`.
///
/// Every value reaches the shell through `shellQuoted` here and nowhere else: parameters become
/// quoted assignments, step arguments quoted words, and payloads (file contents, SQL) base64
/// here-documents the shell never interprets.
public struct ShellProgram: Sendable {
  /// The file in Programs/, e.g. `apply.sh`.
  public let name: String
  private var assignments: [String] = []
  private var steps: [Step] = []

  private struct Step: Sendable {
    var call: String
    var payload: Payload?
  }

  private enum Payload: Sendable {
    case base64(marker: String, lines: [Substring])
    case text(marker: String, text: String)
  }

  public init(_ name: String) {
    precondition(ProgramSources.files[name] != nil, "no remote program \(name) in Sources/DasprovShell/Programs")
    self.name = name
  }

  /// Sets a parameter the program reads (`NAME=value`, before the program's own text).
  public mutating func set(_ parameter: String, _ value: String) {
    assignments.append("\(parameter)=\(value.shellQuoted)")
  }

  /// Sets a parameter to a command line the program runs with `eval`: each word quoted, then the
  /// whole line quoted again as the parameter's value.
  public mutating func set(_ parameter: String, command argv: [String]) {
    set(parameter, RemoteCommand(argv).shellLine)
  }

  /// Appends a call of one of the program's functions, each argument one quoted word.
  public mutating func step(_ function: String, _ arguments: [String]) {
    steps.append(Step(call: Self.call(function, arguments)))
  }

  /// The same, with `input` on the function's standard input (as base64: any byte is safe).
  public mutating func step(_ function: String, _ arguments: [String], input: [UInt8]) {
    let encoded = Data(input).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
    let lines = encoded.split(separator: "\n")
    let marker = "DASPROV_\(steps.count)_" + String(SHA256.hex(input).prefix(16))
    steps.append(Step(call: Self.call(function, arguments), payload: .base64(marker: marker, lines: lines)))
  }

  /// The same, with `text` (which the caller has made line-safe) on the function's standard input.
  public mutating func step(_ function: String, _ arguments: [String], text: String) {
    var marker = "DASPROV_TEXT_\(steps.count)"
    let lines = Set(text.split(separator: "\n", omittingEmptySubsequences: false))
    while lines.contains(Substring(marker)) { marker += "_" }
    steps.append(Step(call: Self.call(function, arguments), payload: .text(marker: marker, text: text)))
  }

  private static func call(_ function: String, _ arguments: [String]) -> String {
    ([function] + arguments.map(\.shellQuoted)).joined(separator: " ")
  }

  /// The program as the host's `sh` receives it.
  public var text: String { render(showPayloads: true) }

  /// The program as `-vvv` shows it: payloads summarised (a secret cannot be masked through
  /// base64, and `--diff` shows contents readably).
  public var displayText: String { render(showPayloads: false) }

  private func render(showPayloads: Bool) -> String {
    let template = Self.resolved(name)
    var out = template.head
    for a in assignments { out += a + "\n" }
    out += template.beforeSteps
    for step in steps {
      switch step.payload {
      case nil:
        out += step.call + "\n"
      case .base64(let marker, let lines)?:
        out += "\(step.call) <<'\(marker)'\n"
        if showPayloads {
          for l in lines { out += l + "\n" }
        } else {
          out += "[\(lines.count) lines of base64 not shown]\n"
        }
        out += marker + "\n"
      case .text(let marker, let text)?:
        out += "\(step.call) <<'\(marker)'\n"
        out += showPayloads ? text + "\n" : "[\(text.split(separator: "\n").count) lines not shown]\n"
        out += marker + "\n"
      }
    }
    out += template.afterSteps
    return out
  }

  /// A program file split where its parameters and steps go, includes inlined. Computed once
  /// per file: every host's program is rendered from it.
  struct Template: Sendable {
    var head: String
    var beforeSteps: String
    var afterSteps: String
  }

  static func resolved(_ name: String) -> Template {
    if let cached = cache.withLock({ $0[name] }) { return cached }
    let template = makeTemplate(name)
    cache.withLock { $0[name] = template }
    return template
  }

  private static let cache = Mutex<[String: Template]>([:])

  /// Includes and the steps marker, as the files write them.
  static let stepsMarker = "# @steps"

  static func makeTemplate(_ name: String) -> Template {
    let source = ProgramSources.files[name] ?? ""
    var lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    var head = ""
    if let first = lines.first, first.hasPrefix("#!") {
      head = first + "\n"
      lines.removeFirst()
    }
    var before: [String] = []
    var after: [String] = []
    var seenSteps = false
    for line in lines {
      if line.hasPrefix("# shellcheck source=") { continue }
      if line == stepsMarker {
        seenSteps = true
        continue
      }
      var expanded = [line]
      if line.hasPrefix(". ./"), let included = ProgramSources.files[String(line.dropFirst(4))] {
        expanded = included.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
          .filter { !$0.hasPrefix("# shellcheck ") }
      }
      if seenSteps { after += expanded } else { before += expanded }
    }
    func joined(_ ls: [String]) -> String { ls.isEmpty ? "" : ls.joined(separator: "\n") + "\n" }
    return Template(head: head, beforeSteps: joined(before), afterSteps: joined(after))
  }
}
