import DasprovCore
import DasprovDSL

/// The shape one statement of a task kind takes: `keyword [positional] (modifier expr)* [= value]`.
public struct StatementRule: Sendable {
  public enum Arity: Sendable { case none, optional, required }

  public var keyword: String
  public var positional: Arity
  public var value: Arity
  public var modifiers: [String]
  /// Modifiers of which at most one may be given (`after` / `before` / `into`).
  public var exclusiveModifiers: [String]
  public var repeatable: Bool
  public var required: Bool
  /// Shown in errors: how the statement is written.
  public var usage: String

  public init(
    _ keyword: String, positional: Arity = .required, value: Arity = .none, modifiers: [String] = [],
    exclusive: [String] = [], repeatable: Bool = false, required: Bool = false, usage: String
  ) {
    self.keyword = keyword
    self.positional = positional
    self.value = value
    self.modifiers = modifiers
    self.exclusiveModifiers = exclusive
    self.repeatable = repeatable
    self.required = required
    self.usage = usage
  }
}

/// A kind of task: `template`, `xml`, `line`, …
///
/// Planning is pure: `plan` reads the desired state (the task's evaluated arguments) and the
/// host's facts and returns changes. It never touches the network; an empty plan means "ok".
public protocol TaskKind: Sendable {
  static var name: String { get }
  /// One line for `--help`-style listings and docs.
  static var summary: String { get }
  /// What the task's target is (`the file to edit`); nil when the kind takes no target.
  static var target: String? { get }
  static var rules: [StatementRule] { get }
  /// Whether the task may notify handlers (a command with no guard cannot be "unchanged").
  static func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest])
  static func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan
}

/// Every task kind dasprov knows, by name.
public enum TaskKinds {
  public static let all: [any TaskKind.Type] = [
    TemplateTask.self, XMLTask.self, LineTask.self, PropertiesTask.self, LinkTask.self, FileTask.self,
    DirectoryTask.self, CopyTask.self, CommandTask.self, PruneTask.self, MySQLTask.self,
  ]

  public static func named(_ name: String) -> (any TaskKind.Type)? { all.first { $0.name == name } }
  public static var names: [String] { all.map { $0.name } }
}

/// Checks statements against a kind's rules before any host is contacted.
public enum StatementValidator {
  public static func validate(
    _ statements: [Statement], rules: [StatementRule], owner: String, ownerRange: SourceRange
  ) -> [Diagnostic] {
    var out: [Diagnostic] = []
    var counts: [String: Int] = [:]
    for s in statements {
      guard let rule = rules.first(where: { $0.keyword == s.keyword.name }) else {
        let names = rules.map(\.keyword)
        out.append(
          .error(
            "'\(s.keyword.name)' is not a statement of \(owner)\(Suggestion.didYouMean(s.keyword.name, in: names)); expected one of: \(names.joined(separator: ", "))",
            at: s.keyword.range))
        continue
      }
      counts[rule.keyword, default: 0] += 1
      if counts[rule.keyword]! > 1 && !rule.repeatable {
        out.append(.error("'\(rule.keyword)' given more than once in \(owner)", at: s.keyword.range))
      }
      if rule.positional == .required && s.positional == nil {
        out.append(.error("'\(rule.keyword)' needs a value: \(rule.usage)", at: s.keyword.range))
      }
      if rule.positional == .none, let p = s.positional {
        out.append(.error("'\(rule.keyword)' takes no value here: \(rule.usage)", at: p.range))
      }
      if rule.value == .required && s.value == nil {
        out.append(.error("'\(rule.keyword)' needs '= value': \(rule.usage)", at: s.keyword.range))
      }
      if rule.value == .none, let v = s.value {
        out.append(.error("'\(rule.keyword)' takes no '= value': \(rule.usage)", at: v.range))
      }
      var exclusiveSeen: [String] = []
      for m in s.modifiers {
        if !rule.modifiers.contains(m.name.name) {
          let hint = rule.modifiers.isEmpty ? "it takes none" : "expected: \(rule.modifiers.joined(separator: ", "))"
          out.append(.error("'\(m.name.name)' does not go with '\(rule.keyword)' (\(hint)): \(rule.usage)", at: m.name.range))
        }
        if rule.exclusiveModifiers.contains(m.name.name) { exclusiveSeen.append(m.name.name) }
      }
      if exclusiveSeen.count > 1 {
        out.append(
          .error("use only one of \(rule.exclusiveModifiers.joined(separator: ", ")) with '\(rule.keyword)'", at: s.range))
      }
    }
    for rule in rules where rule.required && counts[rule.keyword] == nil {
      out.append(.error("\(owner) needs a '\(rule.keyword)' statement: \(rule.usage)", at: ownerRange))
    }
    return out
  }
}
