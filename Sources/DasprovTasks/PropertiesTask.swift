import DasprovCore
import DasprovDSL

/// `properties`: sets or removes keys in `key value` / `key=value` files such as
/// `spark-defaults.conf`, keeping every other line (comments, order, spacing) as it is.
///
/// A changed key keeps its line and its separator. A new key goes right after a commented-out
/// example of itself (`# carbon.das.symbolic.link /path`) when the file has one, else at the end.
///
/// ```
/// task "two spark masters" properties "{{ das_home }}/repository/conf/analytics/spark/spark-defaults.conf" {
///   set "carbon.spark.master.count" = 2
/// }
/// ```
public enum PropertiesTask: TaskKind {
  public static let name = "properties"
  public static let summary = "set or remove keys of a key/value file, keeping the rest"
  public static let target: String? = "the remote properties file"
  public static let rules: [StatementRule] = [
    StatementRule("set", value: .required, repeatable: true, usage: "set \"key\" = value"),
    StatementRule("remove", repeatable: true, usage: "remove \"key\""),
    StatementRule("separator", usage: "separator \" \" (default: what the file uses)"),
  ]

  public struct Arguments: TaskArguments {
    enum Step: Sendable {
      case set(key: Expr, value: Expr)
      case remove(key: Expr)
    }

    var steps: [Step]
    /// The separator for new keys; by default what the file mostly uses.
    var separator: Expr?

    public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
      ([FactRequest(try context.targetPath(), [.stat, .content])], [])
    }

    /// Its plan is a function of the target's content and the variables: an unchanged file
    /// whose record matches is ok.
    public var recordable: Bool { true }

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let path = try context.targetPath()
      let facts = try context.pathFacts(path)
      guard facts.exists, let content = facts.content, let text = String(validating: content, as: UTF8.self) else {
        let what = facts.exists ? "is not a UTF-8 text file small enough to edit" : "does not exist"
        throw Diagnostic.error("\(path) on \(context.hostName) \(what)", at: context.task.range)
      }
      var file = TextLines(text)
      let separator = try context.optionalString(self.separator, "separator") ?? PropertiesTask.inferSeparator(file.lines)
      for step in steps {
        switch step {
        case .set(let keyExpr, let valueExpr):
          let key = try context.string(keyExpr, "key")
          let value = try context.string(valueExpr, "value of \(key)")
          try PropertiesTask.checkKey(key, keyExpr.range)
          guard !value.contains("\n") else { throw Diagnostic.error("value of \(key) must not contain a newline", at: valueExpr.range) }
          PropertiesTask.set(key, value, separator: separator, in: &file.lines)
        case .remove(let keyExpr):
          let key = try context.string(keyExpr, "key")
          file.lines.removeAll { Property(line: $0)?.key == key }
        }
      }
      let newText = file.joined
      guard newText != text else { return TaskPlan() }
      return TaskPlan(
        changes: [.write(path: path, content: Array(newText.utf8), mode: facts.mode, owner: nil, group: nil)],
        diffs: [.text(path: path, old: text, new: newText)])
    }
  }

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    var steps: [Arguments.Step] = []
    for s in statements.all {
      switch s.keyword.name {
      case "set": steps.append(.set(key: try statements.positional(of: s), value: try statements.value(of: s)))
      case "remove": steps.append(.remove(key: try statements.positional(of: s)))
      default: continue
      }
    }
    return Arguments(steps: steps, separator: try statements.optionalPositional("separator"))
  }

  static func checkKey(_ key: String, _ range: SourceRange) throws(Diagnostic) {
    if key.isEmpty || key.contains(where: { $0 == " " || $0 == "\t" || $0 == "=" || $0 == "\n" }) {
      throw Diagnostic.error("property key '\(key)' must not be empty or contain spaces or '='", at: range)
    }
  }

  static func set(_ key: String, _ value: String, separator: String, in lines: inout [String]) {
    let matches = lines.indices.compactMap { i in Property(line: lines[i]).flatMap { $0.key == key ? (i, $0) : nil } }
    if let (first, p) = matches.first {
      lines[first] = p.indent + key + p.separator + value
      for (i, _) in matches.dropFirst().reversed() { lines.remove(at: i) }
      return
    }
    let newLine = key + separator + value
    if let example = lines.lastIndex(where: { Property(commented: $0)?.key == key }) {
      lines.insert(newLine, at: example + 1)
    } else {
      // Keep a final blank line at the end, if the file has one.
      var at = lines.count
      while at > 0, lines[at - 1].allSatisfy({ $0 == " " || $0 == "\t" }) { at -= 1 }
      lines.insert(newLine, at: at)
    }
  }

  static func inferSeparator(_ lines: [String]) -> String {
    let props = lines.compactMap { Property(line: $0) }
    let equals = props.filter { $0.separator.contains("=") }.count
    return equals * 2 > props.count ? "=" : " "
  }
}

/// One `key<sep>value` line of a properties-style file.
struct Property {
  var indent: String
  var key: String
  var separator: String
  var value: String

  /// An active property line; comments (`#`, `!`) and blank lines are not properties.
  init?(line: String) {
    let indent = String(line.prefix { $0 == " " || $0 == "\t" })
    let rest = line.dropFirst(indent.count)
    guard let first = rest.first, first != "#", first != "!" else { return nil }
    let key = rest.prefix { !($0 == " " || $0 == "\t" || $0 == "=" || $0 == ":") }
    guard !key.isEmpty else { return nil }
    let afterKey = rest.dropFirst(key.count)
    let sep = afterKey.prefix { $0 == " " || $0 == "\t" || $0 == "=" || $0 == ":" }
    self.indent = indent
    self.key = String(key)
    self.separator = sep.isEmpty ? " " : String(sep)
    self.value = String(afterKey.dropFirst(sep.count))
  }

  /// A commented-out example line, `# key value`.
  init?(commented line: String) {
    let trimmed = line.drop { $0 == " " || $0 == "\t" }
    guard trimmed.first == "#" else { return nil }
    self.init(line: String(trimmed.dropFirst().drop { $0 == " " || $0 == "\t" || $0 == "#" }))
  }
}
