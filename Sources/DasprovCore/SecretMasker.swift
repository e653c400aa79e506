import Foundation
import Synchronization

/// Replaces secret values with `********` in everything dasprov prints or writes on the controller.
///
/// A secret can reach output in more than its raw form: escaped inside an XML file, percent-encoded
/// inside a JDBC URL, escaped inside JSON, or shell-quoted inside a command. The masker knows all
/// of those forms, so a diff of `master-datasources.xml` cannot leak `a<b&c` as `a&lt;b&amp;c`.
public final class SecretMasker: Sendable {
  public static let mask = "********"
  private struct State {
    // Longest first, so a secret that contains another is masked whole.
    var forms: [String] = []
    var known: Set<String> = []
  }
  private let state = Mutex(State())

  public init() {}

  /// Registers a secret value. Values shorter than 3 characters are not masked: masking "a" or "1"
  /// would shred ordinary output and protect nothing.
  public func add(_ secret: String) {
    guard secret.count >= 3 else { return }
    state.withLock { state in
      guard state.known.insert(secret).inserted else { return }
      for form in Self.forms(of: secret) where !state.forms.contains(form) { state.forms.append(form) }
      state.forms.sort { $0.count > $1.count }
    }
  }

  public var isEmpty: Bool { state.withLock { $0.forms.isEmpty } }

  /// `text` with every known form of every secret replaced.
  public func mask(_ text: String) -> String {
    let current = state.withLock { $0.forms }
    guard !current.isEmpty else { return text }
    var out = text
    for form in current where Self.occurs(form, in: out) {
      out = out.replacingOccurrences(of: form, with: Self.mask)
    }
    return out
  }

  /// Whether `form` occurs in `text`. An ASCII form is looked for byte by byte (memchr and
  /// memcmp over the UTF-8: a whole `--json` report goes through this once per form, and
  /// Foundation's Unicode-aware `contains` is an order of magnitude slower); any other with
  /// `contains`, which also finds its canonically equivalent spellings.
  static func occurs(_ form: String, in text: String) -> Bool {
    guard form.utf8.allSatisfy({ $0 < 0x80 }) else { return text.contains(form) }
    var text = text
    var form = form
    return text.withUTF8 { t in
      form.withUTF8 { f in
        guard let first = f.first, f.count <= t.count, let base = t.baseAddress else { return f.isEmpty }
        var at = 0
        while at + f.count <= t.count, let hit = memchr(base + at, Int32(first), t.count - f.count + 1 - at) {
          let i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
          if memcmp(base + i, f.baseAddress!, f.count) == 0 { return true }
          at = i + 1
        }
        return false
      }
    }
  }

  /// Where `text` holds a known form of a secret, outside the `excluded` spans (names: a secret
  /// is masked where it stands as a value, never where the same characters form a name).
  /// Longest forms win; the spans do not overlap and come in text order.
  public func secretRanges(in text: String, excluding excluded: [Range<String.Index>] = []) -> [Range<String.Index>] {
    let current = state.withLock { $0.forms }
    guard !current.isEmpty else { return [] }
    var found: [Range<String.Index>] = []
    for form in current where text.contains(form) {
      for r in text.ranges(of: form)
      where !excluded.contains(where: { $0.overlaps(r) }) && !found.contains(where: { $0.overlaps(r) }) {
        found.append(r)
      }
    }
    return found.sorted { $0.lowerBound < $1.lowerBound }
  }

  /// `text` with every known form of every secret replaced, except inside `excluded` spans.
  public func mask(_ text: String, excluding excluded: [Range<String.Index>]) -> String {
    Self.replacing(secretRanges(in: text, excluding: excluded), in: text)
  }

  /// `text` with `ranges` (sorted, not overlapping) replaced by the mask.
  static func replacing(_ ranges: [Range<String.Index>], in text: String) -> String {
    guard !ranges.isEmpty else { return text }
    var out = ""
    var at = text.startIndex
    for r in ranges {
      out += text[at..<r.lowerBound]
      out += mask
      at = r.upperBound
    }
    return out + text[at...]
  }

  /// Every spelling of `secret` that dasprov itself could produce.
  static func forms(of secret: String) -> [String] {
    var result: [String] = [secret]
    func add(_ s: String) { if !result.contains(s) { result.append(s) } }
    // XML escaping, with and without quote escaping, and numeric references for quotes.
    add(XMLEscaping.escape(secret))
    add(XMLEscaping.escape(secret, doubleQuote: .named, apostrophe: .named))
    add(XMLEscaping.escape(secret, doubleQuote: .named, apostrophe: .numeric))
    add(XMLEscaping.escape(secret, doubleQuote: .numeric, apostrophe: .numeric))
    // Percent-encoding as in URLs and form bodies, both hex cases.
    let unreserved = CharacterSet(charactersIn:
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    if let encoded = secret.addingPercentEncoding(withAllowedCharacters: unreserved) {
      add(encoded)
      add(lowercasePercentHex(encoded))
      add(encoded.replacingOccurrences(of: "%20", with: "+"))
    }
    // JSON string escaping (without the surrounding quotes).
    add(String(secret.jsonQuoted.dropFirst().dropLast()))
    // Shell quoting (inside the quotes).
    add(secret.replacingOccurrences(of: "'", with: "'\\''"))
    return result.filter { $0.count >= 3 }
  }

  private static func lowercasePercentHex(_ s: String) -> String {
    var out = ""
    var pending = 0
    for ch in s {
      if ch == "%" { pending = 2; out.append(ch); continue }
      if pending > 0 { out += ch.lowercased(); pending -= 1 } else { out.append(ch) }
    }
    return out
  }
}
