import DasprovCore
import DasprovDSL
import DasprovTemplate
import Foundation

/// Finds a module's templates by name.
public protocol TemplateSource: Sendable {
  /// The compiled template `name` of the task's module; throws a diagnostic at `range` when missing.
  func template(named name: String, at range: SourceRange) throws(Diagnostic) -> CompiledTemplate
  /// Directory local paths (e.g. `copy from`) are resolved against.
  var baseDirectory: String { get }
}

/// What a task sees while it is being planned on one host: its declaration, the host's
/// variables, the host's facts (once gathered), what it asked of other hosts, and its
/// module's templates.
public final class TaskContext {
  public let task: TaskDecl
  public let hostName: String
  public let scope: VariableScope
  public let functions: FunctionTable
  /// Nil while fact requests are being computed, before the host is contacted.
  public let facts: HostFacts?
  public let templates: TemplateSource
  /// What other hosts' fact round trips answered of this task's `FactRequest(host:…)`s, by
  /// host name; empty while fact requests are being computed.
  public let peerFacts: [String: HostFacts]
  /// Why another host asked for has no facts (it is unreachable, or its fact script failed),
  /// by host name. Only a plan that needs them fails.
  public let peerProblems: [String: String]
  /// Whether file contents should be diffed (requests small files' contents for diffs).
  public let wantDiff: Bool
  /// Reads a file of another host whose survey sent only its stat and digest: a plan that
  /// turns out to need the bytes (a schema to load) costs that host one more round trip, a
  /// plan that does not, none.
  public let fetchPeerContent: (@Sendable (_ host: String, _ path: String) -> Result<PathFacts, Diagnostic>)?

  public init(
    task: TaskDecl, hostName: String, scope: VariableScope, functions: FunctionTable, facts: HostFacts?,
    peerFacts: [String: HostFacts] = [:], peerProblems: [String: String] = [:], templates: TemplateSource,
    wantDiff: Bool = false, fetchPeerContent: (@Sendable (_ host: String, _ path: String) -> Result<PathFacts, Diagnostic>)? = nil
  ) {
    self.task = task
    self.hostName = hostName
    self.scope = scope
    self.functions = functions
    self.facts = facts
    self.peerFacts = peerFacts
    self.peerProblems = peerProblems
    self.templates = templates
    self.wantDiff = wantDiff
    self.fetchPeerContent = fetchPeerContent
  }

  public var kindName: String { task.kind.name }

  // MARK: - Evaluation

  public func value(_ expr: Expr) throws(Diagnostic) -> Value {
    try Evaluator(scope: scope, functions: functions).evaluate(expr)
  }

  public func string(_ expr: Expr, _ what: String) throws(Diagnostic) -> String {
    let v = try value(expr)
    switch v {
    case .string(let s): return s
    case .int, .bool, .double: return v.description
    default: throw Diagnostic.error("\(what) must be a string, got \(v.typeWithArticle)", at: expr.range)
    }
  }

  public func int(_ expr: Expr, _ what: String) throws(Diagnostic) -> Int {
    let v = try value(expr)
    guard let i = v.intValue else { throw Diagnostic.error("\(what) must be a number, got '\(v.description)'", at: expr.range) }
    return i
  }

  public func bool(_ expr: Expr) throws(Diagnostic) -> Bool { try value(expr).isTruthy }

  /// An absolute remote path with `//` and trailing `/` normalised away.
  public func path(_ expr: Expr, _ what: String) throws(Diagnostic) -> String {
    let raw = try string(expr, what)
    guard raw.hasPrefix("/") else {
      throw Diagnostic.error("\(what) must be an absolute path, got '\(raw)'", at: expr.range)
    }
    guard !raw.contains("\0") else { throw Diagnostic.error("\(what) contains a NUL byte", at: expr.range) }
    return Self.normalize(raw)
  }

  static func normalize(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
      parts.append(part)
    }
    return "/" + parts.joined(separator: "/")
  }

  /// An argument vector: a list of strings, or one string split on spaces.
  public func argv(_ expr: Expr, _ what: String) throws(Diagnostic) -> [String] {
    let v = try value(expr)
    switch v {
    case .list(let items):
      let out = items.map(\.description)
      guard !out.isEmpty else { throw Diagnostic.error("\(what) is an empty command", at: expr.range) }
      return out
    case .string(let s):
      let out = s.split(separator: " ").map(String.init)
      guard !out.isEmpty else { throw Diagnostic.error("\(what) is an empty command", at: expr.range) }
      return out
    default:
      throw Diagnostic.error("\(what) must be a list of arguments, got \(v.typeWithArticle)", at: expr.range)
    }
  }

  /// The task's target path (what `template "/path"` names).
  public func targetPath() throws(Diagnostic) -> String {
    guard let target = task.target else {
      throw Diagnostic.error("task '\(task.name)' needs a target path after '\(task.kind.name)'", at: task.kind.range)
    }
    return try path(target, "the \(task.kind.name) task's path")
  }

  /// File mode from `mode "0644"` / `mode 644` / `mode 0o644`: always octal, as in chmod.
  public func mode(_ expr: Expr?) throws(Diagnostic) -> Int? {
    guard let expr else { return nil }
    let text = try string(expr, "mode").lowercased().replacingOccurrences(of: "0o", with: "")
    guard let m = Int(text, radix: 8), m >= 0, m <= 0o7777 else {
      throw Diagnostic.error("mode must be octal like \"0644\", got '\(text)'", at: expr.range)
    }
    return m
  }

  public func optionalString(_ expr: Expr?, _ what: String) throws(Diagnostic) -> String? {
    guard let expr else { return nil }
    return try string(expr, what)
  }

  // MARK: - Facts

  /// Facts of `path`; planning without facts is a programming error in the engine.
  public func pathFacts(_ path: String) throws(Diagnostic) -> PathFacts {
    guard let facts else {
      throw Diagnostic.error("internal: facts for \(path) were not gathered", at: task.range)
    }
    return facts.path(path)
  }

  /// Facts of `path` on `host`, which the task named in a `FactRequest(host:…)`; this host's
  /// own when `host` is this host. Throws why, when that host's facts could not be gathered.
  public func pathFacts(_ path: String, on host: String) throws(Diagnostic) -> PathFacts {
    if host == hostName { return try pathFacts(path) }
    if let problem = peerProblems[host] { throw Diagnostic.error(problem, at: task.range) }
    guard let facts = peerFacts[host] else {
      throw Diagnostic.error("internal: facts for \(path) on \(host) were not gathered", at: task.range)
    }
    return facts.path(path)
  }

  /// The same with the file's bytes, fetched from `host` when its survey left them out.
  public func pathFactsWithContent(_ path: String, on host: String) throws(Diagnostic) -> PathFacts {
    let facts = try pathFacts(path, on: host)
    guard facts.type == .file || facts.type == .symlink, facts.content == nil, host != hostName, let fetchPeerContent else {
      return facts
    }
    switch fetchPeerContent(host, path) {
    case .success(let fetched): return fetched
    case .failure(let why): throw Diagnostic.error(why.message, at: task.range)
    }
  }

  // MARK: - Templates

  /// Renders template `nameExpr` with the host's variables plus `extra`, after checking that every
  /// variable it reads is defined.
  public func render(_ nameExpr: Expr, extra: [String: Value] = [:]) throws(Diagnostic) -> (text: String, kind: TemplateKind) {
    let name = try string(nameExpr, "template name")
    let template = try templates.template(named: name, at: nameExpr.range)
    var context: [String: Value] = extra
    for use in template.variables where context[use.name] == nil {
      guard let v = try scope.lookup(use.name) else {
        throw Diagnostic.error(
          "undefined variable '\(use.name)' in template \(name) on host \(hostName)\(Suggestion.didYouMean(use.name, in: scope.names))",
          at: use.range, code: .undefinedVariable)
      }
      context[use.name] = v
    }
    return (try template.render(context), template.kind)
  }
}
