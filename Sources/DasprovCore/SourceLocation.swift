/// A position in a file that dasprov read. Lines and columns start at 1, as editors show them.
///
/// Columns count Unicode characters (grapheme clusters) on the line, so a caret printed under
/// the column lands under the right character even after non-ASCII text.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var column: Int

  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  public var description: String { "\(file):\(line):\(column)" }

  public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
    (a.file, a.line, a.column) < (b.file, b.line, b.column)
  }
}

/// A span of source text: where it starts and how many characters it covers on that line.
///
/// Spans that cross lines are underlined to the end of their first line; that is all a caret
/// line can show anyway.
public struct SourceRange: Hashable, Sendable, CustomStringConvertible {
  public var start: SourceLocation
  public var length: Int

  public init(start: SourceLocation, length: Int = 1) {
    self.start = start
    self.length = max(1, length)
  }

  public init(file: String, line: Int, column: Int, length: Int = 1) {
    self.init(start: SourceLocation(file: file, line: line, column: column), length: length)
  }

  public var file: String { start.file }
  public var line: Int { start.line }
  public var column: Int { start.column }
  public var description: String { start.description }
}
