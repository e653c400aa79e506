import DasprovCore
import DasprovDSL
import Foundation

/// `line`: ensures one line is present exactly once, at the right place, or that lines are absent.
///
/// Unlike Ansible's `lineinfile`, a line is never duplicated when its regex stops matching: every
/// line matching `match` (or equal to the line) is removed and the line is put back once, after
/// or before its anchor. If that reproduces the file byte for byte, nothing changes.
///
/// ```
/// task "export CARBON_HOME" line "{{ das_home }}/bin/wso2server.sh" when os_family == "RedHat" {
///   ensure "export CARBON_HOME={{ shell_quote(das_link) }}" match '^export CARBON_HOME=' before '^\[ -z "\$CARBON_HOME" \]'
/// }
/// ```
public enum LineTask: TaskKind {
  public static let name = "line"
  public static let summary = "ensure a line is present once (at an anchor) or absent"
  public static let target: String? = "the remote text file to edit"
  public static let rules: [StatementRule] = [
    StatementRule(
      "ensure", modifiers: ["match", "after", "before"], exclusive: ["after", "before"], repeatable: true,
      usage: "ensure \"line\" [match 'regex'] [after 'regex' | before 'regex']"),
    StatementRule("absent", repeatable: true, usage: "absent 'regex'"),
  ]

  public struct Arguments: TaskArguments {
    enum Anchor: Sendable {
      case after(Expr), before(Expr)
    }

    enum Step: Sendable {
      /// `ensure "line" [match 're'] [after 're' | before 're']`
      case ensure(line: Expr, match: Expr?, anchor: Anchor?)
      /// `absent 're'`
      case absent(Expr)
    }

    var steps: [Step]

    public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
      ([FactRequest(try context.targetPath(), [.stat, .content])], [])
    }

    /// Its plan is a function of the target's content and the variables: an unchanged file
    /// whose record matches is ok.
    public var recordable: Bool { true }

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let path = try context.targetPath()
      let facts = try context.pathFacts(path)
      guard facts.type == .file || facts.type == .symlink, let content = facts.content else {
        let what = facts.exists ? "is not a regular file (or too large to edit)" : "does not exist"
        throw Diagnostic.error("\(path) on \(context.hostName) \(what)", at: context.task.range)
      }
      guard let text = String(validating: content, as: UTF8.self) else {
        throw Diagnostic.error("\(path) on \(context.hostName) is not UTF-8 text", at: context.task.range)
      }
      var file = TextLines(text)
      for step in steps {
        switch step {
        case .absent(let pattern):
          let regex = try LineTask.regex(context, pattern)
          file.lines.removeAll { regex.matches($0) }
        case .ensure(let line, let match, let anchor):
          try LineTask.ensure(context, line: line, match: match, anchor: anchor, &file, path: path)
        }
      }
      let newText = file.joined
      guard newText != text else { return TaskPlan() }
      let bytes = Array(newText.utf8)
      return TaskPlan(
        changes: [.write(path: path, content: bytes, mode: facts.mode, owner: nil, group: nil)],
        diffs: [.text(path: path, old: text, new: newText)])
    }
  }

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    var steps: [Arguments.Step] = []
    for s in statements.all {
      let positional = try statements.positional(of: s)
      switch s.keyword.name {
      case "absent":
        steps.append(.absent(positional))
      case "ensure":
        let anchor: Arguments.Anchor? =
          if let m = s.modifier("after") { .after(m.value) } else if let m = s.modifier("before") { .before(m.value) } else { nil }
        steps.append(.ensure(line: positional, match: s.modifier("match")?.value, anchor: anchor))
      default:
        continue
      }
    }
    return Arguments(steps: steps)
  }

  private static func ensure(
    _ context: TaskContext, line lineExpr: Expr, match: Expr?, anchor: Arguments.Anchor?, _ file: inout TextLines, path: String
  ) throws(Diagnostic) {
    let line = try context.string(lineExpr, "the line")
    guard !line.contains("\n") else { throw Diagnostic.error("the line must not contain a newline", at: lineExpr.range) }
    let matcher: LineRegex
    if let match {
      matcher = try regex(context, match)
    } else {
      matcher = LineRegex(literalLine: line)
    }
    let firstMatch = file.lines.firstIndex { matcher.matches($0) || $0 == line }
    var lines = file.lines.filter { !(matcher.matches($0) || $0 == line) }
    var insertAt: Int
    if let anchor {
      let (anchorExpr, after): (Expr, Bool) =
        switch anchor {
        case .after(let e): (e, true)
        case .before(let e): (e, false)
        }
      let anchorRegex = try regex(context, anchorExpr)
      guard let i = lines.firstIndex(where: { anchorRegex.matches($0) }) else {
        throw Diagnostic.error(
          "anchor '\(anchorRegex.pattern)' matches no line of \(path) on \(context.hostName)", at: anchorExpr.range)
      }
      insertAt = after ? i + 1 : i
    } else if let firstMatch {
      // Keep the line where it was: count the surviving lines before the first match.
      insertAt = file.lines[..<firstMatch].filter { !(matcher.matches($0) || $0 == line) }.count
    } else {
      insertAt = lines.count
    }
    insertAt = min(insertAt, lines.count)
    lines.insert(line, at: insertAt)
    file.lines = lines
  }

  static func regex(_ context: TaskContext, _ expr: Expr) throws(Diagnostic) -> LineRegex {
    let pattern = try context.string(expr, "regex")
    do {
      return try LineRegex(pattern)
    } catch {
      throw Diagnostic.error("invalid regex '\(pattern)': \(error.localizedDescription)", at: expr.range)
    }
  }
}

/// A regex matched against one line at a time (ICU syntax, as in most regex engines), or a
/// literal line compared whole.
struct LineRegex: @unchecked Sendable {
  // NSRegularExpression is immutable and documented as safe to share between threads.
  private enum Matcher {
    case regex(NSRegularExpression)
    case literal(String)
  }

  let pattern: String
  private let matcher: Matcher

  init(_ pattern: String) throws {
    self.pattern = pattern
    self.matcher = .regex(try NSRegularExpression(pattern: pattern))
  }

  init(literalLine: String) {
    self.pattern = literalLine
    self.matcher = .literal(literalLine)
  }

  func matches(_ line: String) -> Bool {
    switch matcher {
    case .literal(let literal): return line == literal
    case .regex(let regex): return regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
    }
  }

  /// The groups of the first match (index 0 is the whole match); nil for no match or a literal.
  func firstMatch(_ line: String) -> [String?]? {
    guard case .regex(let regex) = matcher, let m = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line))
    else { return nil }
    return (0..<m.numberOfRanges).map { i in
      let r = m.range(at: i)
      guard r.location != NSNotFound, let range = Range(r, in: line) else { return nil }
      return String(line[range])
    }
  }
}

/// A text file as lines, remembering its line ending and whether it ended with one.
struct TextLines {
  var lines: [String]
  let ending: String
  let finalNewline: Bool

  init(_ text: String) {
    ending = text.contains("\r\n") ? "\r\n" : "\n"
    finalNewline = text.isEmpty || text.hasSuffix("\n")
    var parts = text.components(separatedBy: ending)
    if finalNewline, parts.last == "" { parts.removeLast() }
    lines = parts
  }

  var joined: String {
    let body = lines.joined(separator: ending)
    return finalNewline && !lines.isEmpty ? body + ending : body
  }
}
