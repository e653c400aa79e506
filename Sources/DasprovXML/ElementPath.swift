/// The simple absolute paths `ensureElement` can create: `/a/b[@name='x']/c` or `/a/b[name='x']`.
///
/// Real XPath can select but not describe what to build, so this small grammar keeps only what
/// says unambiguously what a missing element looks like:
///
///     path      = ("/" step)+
///     step      = name predicate*
///     predicate = "[" term ("and" term)* "]"
///     term      = "@" name "=" literal      (an attribute of the element)
///               | name "=" literal          (a child element with that text)
struct ElementPath {
  struct Step {
    var name: String
    var attributes: [(name: String, value: String)]
    var children: [(name: String, value: String)]

    /// The step as XPath, relative to its parent.
    var xpath: String {
      var s = name
      for a in attributes { s += "[@\(a.name)=\(XPathLiteral.quote(a.value))]" }
      for c in children { s += "[\(c.name)=\(XPathLiteral.quote(c.value))]" }
      return s
    }
  }

  var steps: [Step]

  var xpath: String { "/" + steps.map(\.xpath).joined(separator: "/") }

  static func parse(_ text: String, file: String) throws(XMLError) -> ElementPath {
    let c = Array(text)
    var i = 0
    func fail(_ message: String) -> XMLError {
      XMLError(
        .invalidPath, file: file,
        "invalid element path '\(text)' at character \(i + 1): \(message)", xpath: text)
    }
    func skipSpaces() { while i < c.count, c[i] == " " { i += 1 } }
    func isNameChar(_ ch: Character) -> Bool {
      ch.isLetter || ch.isNumber || ch == "_" || ch == "-" || ch == "." || ch == ":"
    }
    func name() throws(XMLError) -> String {
      let start = i
      while i < c.count, isNameChar(c[i]) { i += 1 }
      guard i > start, !c[start].isNumber, c[start] != "-", c[start] != "." else {
        throw fail("expected an element or attribute name")
      }
      return String(c[start..<i])
    }
    func literal() throws(XMLError) -> String {
      guard i < c.count, c[i] == "'" || c[i] == "\"" else { throw fail("expected a quoted value") }
      let quote = c[i]
      i += 1
      let start = i
      while i < c.count, c[i] != quote { i += 1 }
      guard i < c.count else { throw fail("unterminated value") }
      defer { i += 1 }
      return String(c[start..<i])
    }

    var steps: [Step] = []
    guard c.first == "/" else { throw fail("the path must be absolute, starting with '/'") }
    while i < c.count {
      guard c[i] == "/" else { throw fail("expected '/'") }
      i += 1
      guard i < c.count, c[i] != "/" else {
        throw fail("'//' and a trailing '/' say nothing about where to create elements")
      }
      var step = Step(name: try name(), attributes: [], children: [])
      while i < c.count, c[i] == "[" {
        i += 1
        while true {
          skipSpaces()
          let isAttribute = i < c.count && c[i] == "@"
          if isAttribute { i += 1 }
          let key = try name()
          skipSpaces()
          guard i < c.count, c[i] == "=" else {
            throw fail("expected '=' (only equality predicates can be created)")
          }
          i += 1
          skipSpaces()
          let value = try literal()
          if isAttribute {
            step.attributes.append((key, value))
          } else {
            step.children.append((key, value))
          }
          skipSpaces()
          if i < c.count, c[i] == "]" {
            i += 1
            break
          }
          guard i + 3 <= c.count, String(c[i..<(i + 3)]) == "and" else {
            throw fail("expected ']' or 'and'")
          }
          i += 3
        }
      }
      steps.append(step)
    }
    return ElementPath(steps: steps)
  }
}
