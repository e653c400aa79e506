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
/// A kind reads a task's statements once, into its typed `Arguments`; those then say what facts
/// the task needs and, given the facts, plan it. Planning is pure: it reads the desired state
/// (the evaluated arguments) and facts and returns changes. It never touches the network; an
/// empty plan means "ok".
public protocol TaskKind: Sendable {
  associatedtype Arguments: TaskArguments
  static var name: String { get }
  /// One line for `--help`-style listings and docs.
  static var summary: String { get }
  /// What the task's target is (`the file to edit`); nil when the kind takes no target.
  static var target: String? { get }
  static var rules: [StatementRule] { get }
  /// Reads statements that passed the kind's rules into arguments; throws what else is wrong
  /// with their shape (a `fragment` without `from`), before any host is contacted.
  static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments
}

/// A task's statements as its kind understands them: unevaluated expressions in typed fields,
/// evaluated per host while requesting facts and planning.
public protocol TaskArguments: Sendable {
  /// The paths, guard commands and other hosts' files to gather before planning, in the host's
  /// one fact round trip (and those other hosts' own).
  func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest])
  /// The changes that bring the host to the desired state, given its facts.
  func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan
  /// Checks that need no facts beyond evaluating each expression (a `mode` must be octal), so
  /// `dasprov validate` reports them.
  func check(_ context: TaskContext) throws(Diagnostic)
  /// Whether the host's record of what dasprov wrote can vouch for this task: its plan reads
  /// only its target's facts (contents included), variables and host facts, and changes only
  /// its target — so the same inputs and the same content give the same plan.
  var recordable: Bool { get }
  /// The plan when the record shows that the target's content is what these inputs made of it
  /// last time, checked to be a fixpoint: what still depends on the current stat (a mode).
  func planRecorded(_ context: TaskContext) throws(Diagnostic) -> TaskPlan
}

extension TaskArguments {
  public func check(_ context: TaskContext) throws(Diagnostic) {}
  public var recordable: Bool { false }
  public func planRecorded(_ context: TaskContext) throws(Diagnostic) -> TaskPlan { TaskPlan() }
}

extension TaskKind {
  /// The task's statements checked against `rules` and decoded: every broken rule, as
  /// `dasprov validate` reports them, or the first problem decoding finds.
  public static func arguments(of task: TaskDecl) throws(DiagnosticList) -> Arguments {
    let statements = try Statements(task.statements, rules: rules, owner: "a \(name) task", ownerRange: task.kind.range)
    do throws(Diagnostic) {
      return try decode(statements)
    } catch {
      throw DiagnosticList([error])
    }
  }
}

/// Every task kind dasprov knows, by name.
public enum TaskKinds {
  public static let all: [any TaskKind.Type] = [
    TemplateTask.self, XMLTask.self, LineTask.self, PropertiesTask.self, LinkTask.self, FileTask.self,
    DirectoryTask.self, CopyTask.self, CommandTask.self, PruneTask.self, MySQLTask.self, RequireTask.self,
  ]

  public static func named(_ name: String) -> (any TaskKind.Type)? { all.first { $0.name == name } }
  public static var names: [String] { all.map { $0.name } }

  /// The task's arguments, decoded by its kind; nil for a kind dasprov does not know (which
  /// the validator reports with a suggestion).
  public static func decode(_ task: TaskDecl) -> Result<any TaskArguments, DiagnosticList>? {
    guard let kind = named(task.kind.name) else { return nil }
    do throws(DiagnosticList) {
      return .success(try kind.arguments(of: task))
    } catch {
      return .failure(error)
    }
  }
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
      if counts[rule.keyword, default: 0] > 1 && !rule.repeatable {
        out.append(.error("'\(rule.keyword)' given more than once in \(owner)", at: s.keyword.range))
      }
      if rule.positional == .required && s.positional == nil { out.append(rule.needsPositional(s)) }
      if rule.positional == .none, let p = s.positional {
        out.append(.error("'\(rule.keyword)' takes no value here: \(rule.usage)", at: p.range))
      }
      if rule.value == .required && s.value == nil { out.append(rule.needsValue(s)) }
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
      out.append(rule.missing(owner: owner, at: ownerRange))
    }
    return out
  }
}

extension StatementRule {
  func needsPositional(_ s: Statement) -> Diagnostic {
    .error("'\(keyword)' needs a value: \(usage)", at: s.keyword.range)
  }

  func needsValue(_ s: Statement) -> Diagnostic {
    .error("'\(keyword)' needs '= value': \(usage)", at: s.keyword.range)
  }

  func missing(owner: String, at range: SourceRange) -> Diagnostic {
    .error("\(owner) needs a '\(keyword)' statement: \(usage)", at: range)
  }
}

/// A declaration's statements, checked against its kind's rules and read by keyword.
///
/// Creating one runs the validator's checks, so decoding reports exactly what `dasprov
/// validate` reports. The accessors throw those same messages rather than trap, should a
/// statement ever reach them unchecked.
public struct Statements: Sendable {
  public let all: [Statement]
  let rules: [StatementRule]
  let owner: String
  let ownerRange: SourceRange

  public init(_ statements: [Statement], rules: [StatementRule], owner: String, ownerRange: SourceRange) throws(DiagnosticList) {
    let problems = StatementValidator.validate(statements, rules: rules, owner: owner, ownerRange: ownerRange)
    if !problems.isEmpty { throw DiagnosticList(problems) }
    self.all = statements
    self.rules = rules
    self.owner = owner
    self.ownerRange = ownerRange
  }

  /// The same for callers that report one problem: the first the validator finds.
  public static func checked(
    _ statements: [Statement], rules: [StatementRule], owner: String, ownerRange: SourceRange
  ) throws(Diagnostic) -> Statements {
    do throws(DiagnosticList) {
      return try Statements(statements, rules: rules, owner: owner, ownerRange: ownerRange)
    } catch {
      throw error.diagnostics.first ?? .error("\(owner) is malformed", at: ownerRange)
    }
  }

  /// Every `keyword` statement, in order.
  public func each(_ keyword: String) -> [Statement] { all.filter { $0.keyword.name == keyword } }

  /// The `keyword` statement, if given.
  public func first(_ keyword: String) -> Statement? { all.first { $0.keyword.name == keyword } }

  /// The `keyword` statement its rule requires.
  public func required(_ keyword: String) throws(Diagnostic) -> Statement {
    guard let s = first(keyword) else { throw rule(keyword).missing(owner: owner, at: ownerRange) }
    return s
  }

  /// The value after `s`'s keyword (`from "x"`), which its rule requires.
  public func positional(of s: Statement) throws(Diagnostic) -> Expr {
    guard let p = s.positional else { throw rule(s.keyword.name).needsPositional(s) }
    return p
  }

  /// The `= value` of `s`, which its rule requires.
  public func value(of s: Statement) throws(Diagnostic) -> Expr {
    guard let v = s.value else { throw rule(s.keyword.name).needsValue(s) }
    return v
  }

  /// The value of the required `keyword` statement.
  public func requiredPositional(_ keyword: String) throws(Diagnostic) -> Expr {
    try positional(of: required(keyword))
  }

  /// The value of the `keyword` statement, or nil when there is none.
  public func optionalPositional(_ keyword: String) throws(Diagnostic) -> Expr? {
    guard let s = first(keyword) else { return nil }
    return try positional(of: s)
  }

  private func rule(_ keyword: String) -> StatementRule {
    rules.first { $0.keyword == keyword } ?? StatementRule(keyword, usage: keyword)
  }
}
