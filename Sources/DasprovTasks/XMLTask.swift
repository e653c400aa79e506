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

  public static func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
    ([FactRequest(try context.targetPath(), [.stat, .content])], [])
  }

  public static func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
    let path = try context.targetPath()
    let facts = try context.pathFacts(path)
    guard facts.exists, let original = facts.content else {
      let what = facts.exists ? "is too large to edit (over 1 MiB) or unreadable" : "does not exist"
      throw Diagnostic.error("\(path) on \(context.hostName) \(what)", at: context.task.range)
    }
    var namespaces: [String: String] = [:]
    for s in context.statements("namespace") {
      namespaces[try context.string(s.positional!, "namespace prefix")] = try context.string(s.value!, "namespace URI")
    }
    var bytes = original
    var changes: [XMLChange] = []
    var base: String?
    for s in context.task.statements {
      let keyword = s.keyword.name
      if keyword == "namespace" { continue }
      if keyword == "within" {
        base = try xpath(context, s.positional!, base: nil)
        continue
      }
      let ops = try operations(for: s, context: context, base: base, current: bytes, path: path, namespaces: namespaces)
      guard !ops.isEmpty else { continue }
      do throws(XMLError) {
        let result = try XMLEditor.apply(ops, to: bytes, file: path, namespaces: namespaces)
        bytes = result.bytes
        changes += result.changes
      } catch {
        throw Diagnostic.error("\(context.hostName): \(error.description)", at: s.range)
      }
    }
    guard bytes != original else { return TaskPlan() }
    let lines = changes.map { XMLChangeLine(path: $0.path, old: $0.old, new: $0.new) }
    return TaskPlan(
      changes: [.write(path: path, content: bytes, mode: facts.mode, owner: nil, group: nil)],
      diffs: [.xml(path: path, changes: lines)])
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
    for s: Statement, context: TaskContext, base: String?, current: [UInt8], path: String, namespaces: [String: String]
  ) throws(Diagnostic) -> [XMLEditOperation] {
    switch s.keyword.name {
    case "set":
      let target = try xpath(context, s.positional!, base: base)
      let value = try context.value(s.value!)
      guard !value.isNull else { throw Diagnostic.error("the value for \(target) is none", at: s.value!.range) }
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
        throw Diagnostic.error("\(context.hostName): \(error.description)", at: s.range)
      }
      let count: Int
      do throws(XMLError) { count = try doc.count(target) } catch {
        throw Diagnostic.error("\(context.hostName): \(error.description)", at: s.positional!.range)
      }
      if count == 0 {
        let parent = String(target[..<(target.range(of: "/", options: .backwards)?.lowerBound ?? target.startIndex)])
        let parentCount = (try? doc.count(parent)) ?? 0
        guard !parent.isEmpty, parentCount >= 1 else {
          throw Diagnostic.error("\(path) on \(context.hostName) has no element \(target) nor its parent \(parent)", at: s.positional!.range)
        }
        return [.ensureElement(path: target), .setText(xpath: target, value: text)]
      }
      return [.setText(xpath: target, value: text)]
    case "ensure":
      return [.ensureElement(path: try xpath(context, s.positional!, base: base))]
    case "remove":
      return [.remove(xpath: try xpath(context, s.positional!, base: base))]
    case "fragment":
      let target = try xpath(context, s.positional!, base: base)
      guard let from = s.modifier("from") else { throw Diagnostic.error("fragment needs 'from \"template.xml\"'", at: s.range) }
      let fragment = try context.render(from.value).text
      let position: FragmentPosition
      if let m = s.modifier("after") {
        position = .after(xpath: try xpath(context, m.value, base: base))
      } else if let m = s.modifier("before") {
        position = .before(xpath: try xpath(context, m.value, base: base))
      } else if let m = s.modifier("into") {
        position = .appendTo(parentXPath: try xpath(context, m.value, base: base))
      } else {
        throw Diagnostic.error("fragment needs where to insert it: after, before or into an XPath", at: s.range)
      }
      return [.ensureFragment(xpath: target, fragment: fragment, position: position)]
    case "children":
      let target = try xpath(context, s.positional!, base: base)
      guard let from = s.modifier("from") else { throw Diagnostic.error("children needs 'from \"template.xml\"'", at: s.range) }
      return [.setChildren(xpath: target, fragment: try context.render(from.value).text)]
    default:
      return []
    }
  }
}
