import DasprovCore

/// A SHA-256 digest as four words: compared and hashed without a String per file.
public struct Digest256: Sendable, Hashable, CustomStringConvertible {
  var words: (UInt64, UInt64, UInt64, UInt64)

  init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

  /// The digest of 64 lowercase or uppercase hex digits; nil for anything else.
  public init?(hex: String) {
    var hex = hex
    guard let d = hex.withUTF8({ Digest256(hexBytes: $0) }) else { return nil }
    self = d
  }

  /// The digest of 64 hex digits in `bytes`; nil when they are not.
  init?(hexBytes bytes: UnsafeBufferPointer<UInt8>) {
    guard bytes.count == 64, let w0 = Self.word(bytes, 0), let w1 = Self.word(bytes, 16), let w2 = Self.word(bytes, 32),
      let w3 = Self.word(bytes, 48)
    else { return nil }
    words = (w0, w1, w2, w3)
  }

  /// The 16 hex digits at `start` as a number.
  static func word(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> UInt64? {
    guard start + 16 <= bytes.count else { return nil }
    var w: UInt64 = 0
    for i in start..<(start + 16) {
      guard let v = nibble(bytes[i]) else { return nil }
      w = w << 4 | UInt64(v)
    }
    return w
  }

  /// The digest of raw bytes (32 of them, as `SHA256.finalize` returns).
  init(raw: [UInt8]) {
    precondition(raw.count == 32)
    func word(_ start: Int) -> UInt64 { raw[start..<(start + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
    words = (word(0), word(8), word(16), word(24))
  }

  /// SHA-256 of `bytes`.
  public static func of(_ bytes: [UInt8]) -> Digest256 {
    var h = SHA256()
    h.update(bytes)
    return Digest256(raw: h.finalize())
  }

  @inline(__always) static func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: return c - 48
    case 97...102: return c - 87
    case 65...70: return c - 55
    default: return nil
    }
  }

  public static func == (a: Digest256, b: Digest256) -> Bool {
    a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
  }

  public func hash(into hasher: inout Hasher) { hasher.combine(words.0) }

  /// The first 64 bits, as the record's tags use them.
  var prefix: UInt64 { words.0 }

  public var description: String {
    [words.0, words.1, words.2, words.3].map(Self.hex16).joined()
  }

  static func hex16(_ w: UInt64) -> String {
    let s = String(w, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
  }
}

/// One line of a host's record: the digest of everything on the controller that produced a
/// file's content (the key) and the digest of that content as dasprov left it.
public struct FileRecord: Sendable, Hashable {
  public var key: Digest256
  public var output: Digest256
}

/// What dasprov last wrote on a host, as the host keeps it in `$S/records` (beside the
/// pending-restart markers), one `TAG KEY DIGEST` line per managed file, hex digits only:
/// it holds digests, never contents or values.
///
/// A line says: planning this file's tasks with these inputs (the key) against content with
/// this digest changes nothing — dasprov checked that before writing the line. So when the
/// key the controller computes now is the recorded one and the file's digest, computed on the
/// host in this run, is the recorded one, the tasks are ok without fetching, rendering or
/// parsing anything. Anything else — another input, a file changed behind dasprov's back, a
/// line missing or mangled — only means the file is planned the slow way.
public struct HostRecords: Sendable {
  /// Lines by tag.
  public var lines: [UInt64: FileRecord] = [:]

  public init() {}

  /// Identifies a file of a host in the record; the host's name is in it so that two inventory
  /// hosts on one machine (one state directory) keep lines of their own.
  public static func tag(host: String, path: String) -> UInt64 {
    var h = SHA256()
    h.update(Array("dasprov-record-tag\0".utf8))
    h.update(Array(host.utf8))
    h.update([0])
    h.update(Array(path.utf8))
    return Digest256(raw: h.finalize()).prefix
  }

  /// Reads one `TAG KEY DIGEST` line (16, 64 and 64 hex digits); anything else is skipped.
  mutating func add(line: UnsafeBufferPointer<UInt8>) {
    guard line.count == 16 + 1 + 64 + 1 + 64, line[16] == 32, line[81] == 32, let tag = Digest256.word(line, 0),
      let key = Digest256(hexBytes: UnsafeBufferPointer(rebasing: line[17..<81])),
      let output = Digest256(hexBytes: UnsafeBufferPointer(rebasing: line[82..<146]))
    else { return }
    lines[tag] = FileRecord(key: key, output: output)
  }

  /// The line as apply.sh's `record` step writes it.
  static func text(tag: UInt64, _ record: FileRecord) -> String {
    "\(Digest256.hex16(tag)) \(record.key) \(record.output)"
  }
}
