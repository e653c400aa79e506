import DasprovCore
import DasprovDSL
import DasprovXML
import Foundation

/// `xml`: edits a remote XML file on the controller with libxml2, splicing only the changed bytes
/// into the original text, so comments, indentation, attribute order and line endings of
/// everything else stay as they were. Nothing is needed on the host.
///
/// ```
/// task "user store on WSO2UM_DB" xml "{{ das_home }}/repository/conf/user-mgt.xml" {
///   set "/UserManager/Realm/Configuration/Property[@name='dataSource']" = "jdbc/WSO2UM_DB"
///   notify restart
/// }
/// ```
/// Statements, applied in order:
/// - `within XPATH`: relative XPaths below are relative to this element.
/// - `set XPATH = value`: an element's text (created if only it is missing), or an attribute when
///   the XPath ends in `/@name` (added if missing).
/// - `ensure PATH`: creates what is missing of a simple element path.
/// - `fragment XPATH from "template.xml" (after X | before X | into X)`: the element XPATH
///   selects equals the rendered fragment: inserted if missing, replaced if different.
/// - `children XPATH from "template.xml"`: the element's children equal the fragment's elements.
/// - `remove XPATH`: matching elements or attributes are removed.
/// - `namespace "p" = "uri"`: binds a prefix for prefixed XPaths. Default namespaces need none:
///   `/Server/Ports/Offset` works on carbon.xml.
public enum XMLTask: TaskKind {
  public static let name = "xml"
  public static let summary = "edit XML in place on the controller, keeping untouched bytes"
  public static let target: String? = "the remote XML file"
  public static let rules: [StatementRule] = [
    StatementRule("within", repeatable: true, usage: "within \"/absolute/xpath\" (base for relative XPaths below)"),
    StatementRule("set", value: .required, repeatable: true, usage: "set \"xpath\" = value  (\"…/@attr\" sets an attribute)"),
    StatementRule("ensure", repeatable: true, usage: "ensure \"/simple/element/path[@name='x']\""),
    StatementRule(
      "fragment", modifiers: ["from", "after", "before", "into"], exclusive: ["after", "before", "into"], repeatable: true,
      usage: "fragment \"xpath\" from \"template.xml\" (after \"xpath\" | before \"xpath\" | into \"xpath\")"),
    StatementRule("children", modifiers: ["from"], repeatable: true, usage: "children \"xpath\" from \"template.xml\""),
    StatementRule("remove", repeatable: true, usage: "remove \"xpath\""),
    StatementRule("namespace", value: .required, repeatable: true, usage: "namespace \"prefix\" = \"uri\""),
  ]

  public struct Arguments: TaskArguments {
    /// Where a fragment goes when it is missing.
    enum Anchor: Sendable {
      case after(Expr), before(Expr), into(Expr)
    }

    /// One statement other than `namespace`, in order.
    enum Step: Sendable {
      case within(Expr)
      case set(xpath: Expr, value: Expr)
      case ensure(Expr)
      case fragment(xpath: Expr, template: Expr, anchor: Anchor)
      case children(xpath: Expr, template: Expr)
      case remove(Expr)
    }

    var namespaces: [(prefix: Expr, uri: Expr)]
    /// Each step with its statement's range, for errors.
    var steps: [(step: Step, range: SourceRange)]

    public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
      ([FactRequest(try context.targetPath(), [.stat, .content])], [])
    }

    /// Its plan is a function of the target's content and the variables: an unchanged file
    /// whose record matches is ok.
    public var recordable: Bool { true }

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      let path = try context.targetPath()
      let facts = try context.pathFacts(path)
      guard facts.exists, let original = facts.content else {
        let what = facts.exists ? "is too large to edit (over 1 MiB) or unreadable" : "does not exist"
        throw Diagnostic.error("\(path) on \(context.hostName) \(what)", at: context.task.range)
      }
      var namespaces: [String: String] = [:]
      for (prefix, uri) in self.namespaces {
        namespaces[try context.string(prefix, "namespace prefix")] = try context.string(uri, "namespace URI")
      }
      var bytes = original
      var changes: [XMLChange] = []
      var base: String?
      for (step, range) in steps {
        if case .within(let xpath) = step {
          base = try XMLTask.xpath(context, xpath, base: nil)
          continue
        }
        let ops = try XMLTask.operations(
          for: step, at: range, context: context, base: base, current: bytes, path: path, namespaces: namespaces)
        guard !ops.isEmpty else { continue }
        do throws(XMLError) {
          let result = try XMLEditor.apply(ops, to: bytes, file: path, namespaces: namespaces)
          bytes = result.bytes
          changes += result.changes
        } catch {
          throw Diagnostic.error("\(context.hostName): \(error.description)", at: range)
        }
      }
      guard bytes != original else { return TaskPlan() }
      let lines = changes.map { XMLChangeLine(path: $0.path, old: $0.old, new: $0.new) }
      return TaskPlan(
        changes: [.write(path: path, content: bytes, mode: facts.mode, owner: nil, group: nil)],
        diffs: [.xml(path: path, changes: lines)])
    }
  }

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    var namespaces: [(prefix: Expr, uri: Expr)] = []
    var steps: [(step: Arguments.Step, range: SourceRange)] = []
    for s in statements.all {
      let target = try statements.positional(of: s)
      let step: Arguments.Step
      switch s.keyword.name {
      case "namespace":
        namespaces.append((target, try statements.value(of: s)))
        continue
      case "within": step = .within(target)
      case "set": step = .set(xpath: target, value: try statements.value(of: s))
      case "ensure": step = .ensure(target)
      case "remove": step = .remove(target)
      case "fragment":
        guard let from = s.modifier("from") else { throw Diagnostic.error("fragment needs 'from \"template.xml\"'", at: s.range) }
        let anchor: Arguments.Anchor
        if let m = s.modifier("after") {
          anchor = .after(m.value)
        } else if let m = s.modifier("before") {
          anchor = .before(m.value)
        } else if let m = s.modifier("into") {
          anchor = .into(m.value)
        } else {
          throw Diagnostic.error("fragment needs where to insert it: after, before or into an XPath", at: s.range)
        }
        step = .fragment(xpath: target, template: from.value, anchor: anchor)
      case "children":
        guard let from = s.modifier("from") else { throw Diagnostic.error("children needs 'from \"template.xml\"'", at: s.range) }
        step = .children(xpath: target, template: from.value)
      default:
        continue
      }
      steps.append((step, s.range))
    }
    return Arguments(namespaces: namespaces, steps: steps)
  }

  /// An XPath from a statement, made absolute against `within`.
  static func xpath(_ context: TaskContext, _ expr: Expr, base: String?) throws(Diagnostic) -> String {
    let raw = try context.string(expr, "XPath")
    guard !raw.isEmpty else { throw Diagnostic.error("empty XPath", at: expr.range) }
    if raw.hasPrefix("/") || raw.hasPrefix("(") { return raw }
    guard let base else {
      throw Diagnostic.error("relative XPath '\(raw)' needs a 'within \"/…\"' statement before it", at: expr.range)
    }
    return base + "/" + raw
  }

  static func operations(
    for step: Arguments.Step, at range: SourceRange, context: TaskContext, base: String?, current: [UInt8], path: String,
    namespaces: [String: String]
  ) throws(Diagnostic) -> [XMLEditOperation] {
    switch step {
    case .within:
      return []
    case .set(let xpathExpr, let valueExpr):
      let target = try xpath(context, xpathExpr, base: base)
      let value = try context.value(valueExpr)
      guard !value.isNull else { throw Diagnostic.error("the value for \(target) is none", at: valueExpr.range) }
      let text = value.description
      if let slash = target.range(of: "/@", options: .backwards), !target[slash.upperBound...].contains("/"),
        !target[slash.upperBound...].contains("[")
      {
        let element = String(target[..<slash.lowerBound])
        let name = String(target[slash.upperBound...])
        return [.setAttribute(xpath: element, name: name, value: text)]
      }
      // A missing element is created when its parent exists; a missing parent is an error.
      let doc: ParsedXML
      do throws(XMLError) { doc = try ParsedXML(bytes: current, file: path, namespaces: namespaces) } catch {
        throw Diagnostic.error("\(context.hostName): \(error.description)", at: range)
      }
      let count: Int
      do throws(XMLError) { count = try doc.count(target) } catch {
        throw Diagnostic.error("\(context.hostName): \(error.description)", at: xpathExpr.range)
      }
      if count == 0 {
        let parent = String(target[..<(target.range(of: "/", options: .backwards)?.lowerBound ?? target.startIndex)])
        let parentCount = (try? doc.count(parent)) ?? 0
        guard !parent.isEmpty, parentCount >= 1 else {
          throw Diagnostic.error("\(path) on \(context.hostName) has no element \(target) nor its parent \(parent)", at: xpathExpr.range)
        }
        return [.ensureElement(path: target), .setText(xpath: target, value: text)]
      }
      return [.setText(xpath: target, value: text)]
    case .ensure(let xpathExpr):
      return [.ensureElement(path: try xpath(context, xpathExpr, base: base))]
    case .remove(let xpathExpr):
      return [.remove(xpath: try xpath(context, xpathExpr, base: base))]
    case .fragment(let xpathExpr, let template, let anchor):
      let target = try xpath(context, xpathExpr, base: base)
      let fragment = try context.render(template).text
      let position: FragmentPosition
      switch anchor {
      case .after(let e): position = .after(xpath: try xpath(context, e, base: base))
      case .before(let e): position = .before(xpath: try xpath(context, e, base: base))
      case .into(let e): position = .appendTo(parentXPath: try xpath(context, e, base: base))
      }
      return [.ensureFragment(xpath: target, fragment: fragment, position: position)]
    case .children(let xpathExpr, let template):
      let target = try xpath(context, xpathExpr, base: base)
      return [.setChildren(xpath: target, fragment: try context.render(template).text)]
    }
  }
}
