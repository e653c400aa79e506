/// A quoted source line with its secrets masked, and the caret's span moved to match: masking
/// `web` as `********` moves everything after it five columns right.
struct MaskedLine {
  let text: String
  /// The masked spans as character offsets of the original line, with their original widths.
  private let spans: [(start: Int, width: Int)]

  init(_ line: String, masker: SecretMasker?, names: [Range<String.Index>]) {
    guard let masker else {
      text = line
      spans = []
      return
    }
    let ranges = masker.secretRanges(in: line, excluding: names)
    text = SecretMasker.replacing(ranges, in: line)
    spans = ranges.map {
      (line.distance(from: line.startIndex, to: $0.lowerBound), line.distance(from: $0.lowerBound, to: $0.upperBound))
    }
  }

  /// The caret's 1-based column and length in the masked text.
  func span(column: Int, length: Int) -> (Int, Int) {
    let start = moved(column - 1, isEnd: false)
    let end = moved(column - 1 + max(1, length), isEnd: true)
    return (start + 1, max(1, end - start))
  }

  /// Where original character offset `x` lands; inside a masked span, at its start or end.
  private func moved(_ x: Int, isEnd: Bool) -> Int {
    var shift = 0
    for span in spans {
      let maskWidth = SecretMasker.mask.count
      if x >= span.start + span.width {
        shift += maskWidth - span.width
      } else if x > span.start {
        return span.start + shift + (isEnd ? maskWidth : 0)
      } else {
        break
      }
    }
    return x + shift
  }
}
