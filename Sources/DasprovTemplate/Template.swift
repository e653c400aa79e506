import DasprovCore
import Foundation
@preconcurrency import Stencil
import Synchronization

/// How rendered values are escaped: by the kind of file the template produces.
public enum TemplateKind: String, Sendable {
  /// XML: every `{{ value }}` is escaped (`&`, `<`, `>`, `"`, `'`), so a password like `a<b&c"d'`
  /// parses back as exactly that value. `{{ value|raw }}` opts out, for trusted markup.
  case xml
  /// Plain text (properties, shell fragments): values are inserted as they are.
  case text

  /// The kind a template file's name implies: `*.xml` (also `*.xml.tpl`) is XML.
  public static func forFile(_ path: String) -> TemplateKind {
    let name = (path as NSString).lastPathComponent.lowercased()
    return name.hasSuffix(".xml") || name.contains(".xml.") ? .xml : .text
  }
}

/// A variable a template reads from the context, with where it is read.
public struct TemplateVariableUse: Sendable, Hashable {
  public var name: String
  public var range: SourceRange
}

/// A parsed Stencil template that knows which variables it reads and escapes by file kind.
///
/// Stencil renders an undefined variable as an empty string and escapes nothing. Both are wrong
/// for configuration files: an empty `<password/>` starts a broken cluster. So the template is
/// parsed once, the parsed node tree is walked for every variable it reads (loop variables
/// excluded), and the engine rejects undefined ones before rendering.
public final class CompiledTemplate: @unchecked Sendable {
  // Stencil's nodes are immutable after parsing; rendering does not mutate them, so one compiled
  // template is safely rendered for several hosts on several threads (the output cache is
  // behind a lock).
  public let path: String
  public let kind: TemplateKind
  public let variables: [TemplateVariableUse]
  /// Every member name the template reads, loop variables' included: `{{ m.das_address }}` in
  /// `{% for m in peers %}` gives `das_address` (what it reads of each host object).
  public let memberNames: Set<String>
  private let nodes: [NodeType]
  private let environment: Environment

  /// Compiles `text`, registering it with `sources` so diagnostics can quote it.
  public init(path: String, text: String, kind: TemplateKind? = nil, sources: SourceFiles = SourceFiles()) throws(DiagnosticList) {
    sources.register(file: path, text: text)
    self.path = path
    self.kind = kind ?? TemplateKind.forFile(path)
    let environment = Environment(extensions: [Self.escapingExtension])
    self.environment = environment
    let template = Template(templateString: text, environment: environment, name: path)
    var diagnostics: [Diagnostic] = []
    var tokens: [Token] = []
    for token in template.tokens {
      guard token.kind == .variable, self.kind == .xml else {
        tokens.append(token)
        continue
      }
      let contents = token.contents.trimmingCharacters(in: .whitespaces)
      if contents.smartComponents.contains("if") {
        diagnostics.append(
          .error(
            "inline 'if' inside '{{ }}' is not supported in XML templates; use {% if %} … {% endif %}",
            at: Self.range(of: token, path: path)))
        tokens.append(token)
        continue
      }
      let rewritten: String
      if contents.hasSuffix("|raw") {
        rewritten = String(contents.dropLast(4))
      } else {
        rewritten = contents + "|xmlescape"
      }
      tokens.append(Token.variable(value: rewritten, at: token.sourceMap))
    }
    var parsed: [NodeType] = []
    do {
      parsed = try TokenParser(tokens: tokens, environment: environment).parse()
    } catch let error as TemplateSyntaxError {
      let range = error.token.map { Self.range(of: $0, path: path) } ?? SourceRange(file: path, line: 1, column: 1)
      diagnostics.append(.error("template syntax: \(error.reason)", at: range))
    } catch {
      diagnostics.append(.error("template syntax: \(error)", at: SourceRange(file: path, line: 1, column: 1)))
    }
    if !diagnostics.isEmpty { throw DiagnosticList(diagnostics) }
    nodes = parsed
    var walker = VariableWalker(path: path)
    walker.walk(parsed, bound: ["forloop"], token: nil, depth: 0)
    variables = walker.uses
    memberNames = walker.members
  }

  /// Renders with `context`. Callers check `variables` against the context first.
  ///
  /// Hosts of one role mostly render a template with equal values (the same member list, the
  /// same database URL), and Stencil is slow with maps: it copies a whole map at every `m.key`
  /// it resolves. So each output is kept, keyed by the values it was rendered from; a hit costs
  /// one hash of those values. Bounded: the cache starts over when it holds `cacheLimit` outputs.
  /// Renders are serialized per template: hosts plan at the same moment, and the second host
  /// waiting for the first one's output is far cheaper than both rendering it.
  public func render(_ context: [String: Value]) throws(Diagnostic) -> String {
    try outputs.withLock { (cache) throws(Diagnostic) -> String in
      if let hit = cache[context] { return hit }
      let text = try renderUncached(context)
      if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
      cache[context] = text
      return text
    }
  }

  private static let cacheLimit = 256
  /// Rendered outputs by the values they were rendered from.
  private let outputs = Mutex<[[String: Value]: String]>([:])

  private func renderUncached(_ context: [String: Value]) throws(Diagnostic) -> String {
    let objects = context.mapValues(\.foundationObject)
    do {
      return try renderNodes(nodes, Context(dictionary: objects, environment: environment))
    } catch let error as TemplateSyntaxError {
      let range = error.token.map { Self.range(of: $0, path: path) } ?? SourceRange(file: path, line: 1, column: 1)
      throw Diagnostic.error("template: \(error.reason)", at: range)
    } catch {
      throw Diagnostic.error("template: \(error)", at: SourceRange(file: path, line: 1, column: 1))
    }
  }

  /// Variables the template reads that `defined` does not contain, one per name and place.
  public func undefinedVariables(in defined: Set<String>) -> [TemplateVariableUse] {
    variables.filter { !defined.contains($0.name) }
  }

  static func range(of token: Token, path: String) -> SourceRange {
    let line = Int(token.sourceMap.location.lineNumber)
    let column = token.sourceMap.location.lineOffset + 1
    return SourceRange(file: path, line: max(1, line), column: max(1, column), length: token.contents.count + 4)
  }

  /// `xmlescape` is applied to every value of an XML template; `raw` marks trusted markup.
  private static let escapingExtension: Extension = {
    let ext = Extension()
    ext.registerFilter("xmlescape") { (value: Any?) in
      guard let value else { return nil }
      return XMLEscaping.value(stringify(value))
    }
    ext.registerFilter("raw") { (value: Any?) in value }
    return ext
  }()

  private static func stringify(_ value: Any) -> String {
    switch value {
    case let b as Bool: return b ? "true" : "false"
    case let s as String: return s
    case let n as Int: return String(n)
    case is NSNull: return ""
    default: return String(describing: value)
    }
  }
}

/// Walks Stencil's parsed node tree and collects the variables it reads.
///
/// Stencil keeps its `for`/`if` node types internal, so the walk uses reflection over the parsed
/// tree: every `Variable` value found is a read, and a node with `loopVariables` binds those names
/// inside its `nodes`. This follows the library's own parse, so `{{ "literal" }}`, filters and
/// filter arguments are handled as Stencil sees them.
struct VariableWalker {
  let path: String
  var uses: [TemplateVariableUse] = []
  var members: Set<String> = []
  private var seen: Set<String> = []

  init(path: String) { self.path = path }

  mutating func walk(_ value: Any, bound: Set<String>, token: Token?, depth: Int) {
    guard depth < 64 else { return }
    if let variable = value as? Variable {
      record(variable.variable, bound: bound, token: token)
      return
    }
    if let nodes = value as? [NodeType] {
      for node in nodes { walk(node, bound: bound, token: token, depth: depth + 1) }
      return
    }
    let mirror = Mirror(reflecting: value)
    var current = token
    for child in mirror.children where child.label == "token" {
      if let t = child.value as? Token { current = t }
      if let t = child.value as? Token?, let t { current = t }
    }
    var inner = bound
    for child in mirror.children where child.label == "loopVariables" {
      if let names = child.value as? [String] { inner.formUnion(names) }
    }
    for child in mirror.children {
      switch child.label {
      case "token", "loopVariables", "label", "environment", "trimBehaviour", "whitespace":
        continue
      case "nodes":
        walk(child.value, bound: inner, token: current, depth: depth + 1)
      default:
        walk(child.value, bound: bound, token: current, depth: depth + 1)
      }
    }
  }

  private mutating func record(_ expression: String, bound: Set<String>, token: Token?) {
    let text = expression.trimmingCharacters(in: .whitespaces)
    guard let first = text.first else { return }
    if first == "\"" || first == "'" || first.isNumber || first == "-" { return }
    if ["true", "false", "nil"].contains(text) || Double(text) != nil { return }
    let root = String(text.prefix { $0 != "." && $0 != "[" })
    for member in text.split(separator: ".").dropFirst() where !member.isEmpty && !member.allSatisfy(\.isNumber) {
      members.insert(String(member.prefix { $0 != "[" }))
    }
    guard !root.isEmpty, !bound.contains(root) else { return }
    let range = token.map { CompiledTemplate.range(of: $0, path: path) } ?? SourceRange(file: path, line: 1, column: 1)
    let key = "\(root)@\(range.line):\(range.column)"
    guard seen.insert(key).inserted else { return }
    uses.append(TemplateVariableUse(name: root, range: range))
  }
}

extension String {
  /// Whitespace-separated words, keeping quoted strings whole (enough to spot an inline `if`).
  fileprivate var smartComponents: [String] {
    var words: [String] = []
    var word = ""
    var quote: Character?
    for ch in self {
      if let q = quote {
        word.append(ch)
        if ch == q { quote = nil }
      } else if ch == "\"" || ch == "'" {
        quote = ch
        word.append(ch)
      } else if ch == " " {
        if !word.isEmpty { words.append(word) }
        word = ""
      } else {
        word.append(ch)
      }
    }
    if !word.isEmpty { words.append(word) }
    return words
  }
}
