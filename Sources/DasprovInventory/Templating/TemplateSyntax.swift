import DasprovCore

/// The part of Jinja2 that inventory values use, as Ansible renders it (see `InventoryTemplating`).
///
/// Expressions follow Jinja's grammar and precedence: `or` < `and` < `not` < comparisons and `in`
/// < `+ -` < `~` < `* / // %` < `**` < unary `- +` < filters and tests < `.attr`, `[key]`, calls.
indirect enum TemplateExpr: Sendable {
  case literal(Value)
  case name(String)
  case list([TemplateExpr])
  case dict([(TemplateExpr, TemplateExpr)])
  /// `x.name`: Jinja tries the attribute, then the item.
  case attribute(TemplateExpr, String)
  /// `x[key]`: the item, then the attribute.
  case item(TemplateExpr, TemplateExpr)
  case slice(TemplateExpr, start: TemplateExpr?, stop: TemplateExpr?, step: TemplateExpr?)
  /// `x.method(args)`: the Python string and dict methods inventories call (`split`, `get`, …).
  case method(TemplateExpr, String, TemplateArguments)
  case filter(TemplateExpr, String, TemplateArguments)
  case test(TemplateExpr, String, TemplateArguments, negated: Bool)
  case not(TemplateExpr)
  case negate(TemplateExpr)
  case binary(TemplateOperator, TemplateExpr, TemplateExpr)
  case and(TemplateExpr, TemplateExpr)
  case or(TemplateExpr, TemplateExpr)
  /// `a if cond else b`; without `else`, an undefined value.
  case conditional(TemplateExpr, condition: TemplateExpr, otherwise: TemplateExpr?)
}

/// Arguments of a filter, test or method call: positional, then `name=value`.
struct TemplateArguments: Sendable {
  var positional: [TemplateExpr] = []
  var named: [(String, TemplateExpr)] = []
}

enum TemplateOperator: String, Sendable {
  case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%"
  case power = "**", concat = "~"
  case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
  case isIn = "in", notIn = "not in"
}

/// A parsed template: text and `{{ }}` outputs, and the few `{% %}` blocks inventories use.
indirect enum TemplateNode: Sendable {
  case text(String)
  case output(TemplateExpr)
  /// `{% if %}…{% elif %}…{% else %}…{% endif %}`.
  case conditional([(TemplateExpr, [TemplateNode])], otherwise: [TemplateNode])
  /// `{% for a[, b] in x %}…{% else %}…{% endfor %}`, with Jinja's `loop` variable.
  case loop(targets: [String], over: TemplateExpr, body: [TemplateNode], otherwise: [TemplateNode])
  /// `{% set name = expr %}`.
  case assign(String, TemplateExpr)
}

/// Why a value could not be templated. The resolver adds the variable and where it is set.
struct TemplateError: Error, Sendable {
  enum Kind: Sendable, Equatable {
    /// Jinja cannot parse the template (or it uses a tag or filter dasprov does not have).
    case syntax
    /// A name, attribute or item that does not exist reached something other than `default`.
    case undefined
    /// An operation Python refuses (`'a' + 1`), or a filter given the wrong kind of value.
    case invalid
    /// Variables whose values refer to each other.
    case loop
  }

  var kind: Kind
  var message: DiagnosticMessage
  /// Where the failing value is set, and which host's variable it is; filled in by the
  /// resolver for the innermost variable being templated when the error arose.
  var origin: SourceRange?
  var variable: String?
  var host: String?
  /// Whether the failing value was read through `hostvars[host]` (where `hostvars` is undefined).
  var throughHostvars = false

  init(_ kind: Kind, _ message: DiagnosticMessage) {
    self.kind = kind
    self.message = message
  }
}
