import DasprovCore
import DasprovShell
import DasprovTasks
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one fact round trip brought back: the host's facts, its dasprov state directory, and
/// (from a survey that asked) the record of what dasprov last wrote there.
public struct GatheredFacts: Sendable {
  public var facts: HostFacts
  public var stateDirectory: String
  /// Nil when the program did not ask for it; empty when the host has none.
  public var records: HostRecords?
}

/// The fact output could not be read: cut short, or not what facts.sh prints.
public struct FactOutputError: Error, Sendable, CustomStringConvertible {
  public var description: String
}

/// facts.sh for one host, and the parser of what it answers.
///
/// Two kinds: the run's first round trip, the survey — OS, pending restarts, the record,
/// every path's type, mode, owner, size, link target and digest, directory listings, guard
/// commands, but no file contents — and, only for files whose plan needs their bytes, the
/// contents round trip (their stat again, and their bytes).
public struct FactProgram: Sendable {
  /// Files larger than this are hashed but not fetched for editing or diffing.
  public static let contentLimit = 1 << 20

  public enum Kind: Sendable {
    /// Everything but contents: paths asking for `.content` are hashed.
    case survey(records: Bool)
    /// The stat and bytes of the requests' paths, nothing else.
    case contents
  }

  public let kind: Kind
  public let requests: [FactRequest]
  public let probes: [ProbeRequest]
  /// Servers' accounts to resolve, by handler name.
  public let accounts: [String: ServiceAccountSpec]
  /// Also the host's IP addresses (`dasprov facts`).
  public let addresses: Bool
  /// Ends each raw section; drawn at random per run, so no file can hold it by chance.
  public let endMarker: String

  /// The survey of a run's first round trip.
  public init(
    requests: [FactRequest], probes: [ProbeRequest], accounts: [String: ServiceAccountSpec] = [:], addresses: Bool = false,
    records: Bool = false, endMarker: String = FactProgram.randomEndMarker()
  ) {
    self.kind = .survey(records: records)
    self.requests = requests
    self.probes = probes
    self.accounts = accounts
    self.addresses = addresses
    self.endMarker = endMarker
  }

  /// The contents of `paths` (and their stat, read in the same round trip).
  public init(contentsOf paths: [String], endMarker: String = FactProgram.randomEndMarker()) {
    self.kind = .contents
    self.requests = paths.map { FactRequest($0, [.stat, .content]) }
    self.probes = []
    self.accounts = [:]
    self.addresses = false
    self.endMarker = endMarker
  }

  /// A fresh end marker for the raw sections.
  public static func randomEndMarker() -> String {
    var g = SystemRandomNumberGenerator()
    return "@end-" + (0..<4).map { _ in String(g.next() as UInt32, radix: 16) }.joined(separator: "-")
  }

  public var program: ShellProgram {
    var p = ShellProgram("facts.sh")
    p.set("E", endMarker)
    p.set("CAT_LIMIT", String(Self.contentLimit * 16))
    switch kind {
    case .survey(let records):
      p.step("host_facts", [])
      if records { p.step("records", []) }
      if addresses { p.step("addresses", []) }
      if !requests.isEmpty { p.step("facts_find", requests.map(\.path)) }
      let hashed = requests.filter { !$0.needs.isDisjoint(with: [.hash, .content]) }.map(\.path)
      if !hashed.isEmpty { p.step("facts_sha", hashed) }
      for (i, r) in requests.enumerated() where r.needs.contains(.listing) { p.step("facts_list", [String(i), r.path]) }
      for (i, probe) in probes.enumerated() { p.step(probe.capture ? "probe_output" : "probe", [String(i)] + probe.argv) }
      for (name, a) in accounts.sorted(by: { $0.key < $1.key }) { p.step("account", [name, a.home, a.user ?? "", a.javaHome ?? ""]) }
    case .contents:
      if !requests.isEmpty {
        p.step("facts_find", requests.map(\.path))
        p.step("facts_cat", requests.map(\.path))
      }
    }
    return p
  }

  /// Parses facts.sh's output: paths, contents, listings and probes are matched to this
  /// program's requests by order and index.
  public func parse(_ output: [UInt8]) throws(FactOutputError) -> GatheredFacts {
    let result: Result<GatheredFacts, FactOutputError> = output.withUnsafeBufferPointer { bytes in
      var parser = FactParser(program: self, bytes: bytes)
      do throws(FactOutputError) {
        return .success(try parser.run())
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }
}

extension FactProgram {
  /// Undoes sha256sum's escaping of a file name (`\\\\` and `\\n`).
  static func unescapeChecksumName(_ s: String) -> String {
    var out = ""
    var it = s.makeIterator()
    while let c = it.next() {
      guard c == "\\", let n = it.next() else {
        out.append(c)
        continue
      }
      out.append(n == "n" ? "\n" : n)
    }
    return out
  }
}

/// Reads facts.sh's output in place: lines and raw sections are ranges of the buffer, found
/// with memchr/memmem; only the values facts keep become Strings. Paths are matched against
/// the requests' own Strings (find and sha256sum answer in argument order), so a host's answer
/// costs no String per path.
struct FactParser {
  let program: FactProgram
  let bytes: UnsafeBufferPointer<UInt8>
  var position = 0
  /// "\n" + the end marker + "\n", from the script's `@raw` line.
  var tail: [UInt8] = []

  init(program: FactProgram, bytes: UnsafeBufferPointer<UInt8>) {
    self.program = program
    self.bytes = bytes
  }

  mutating func run() throws(FactOutputError) -> GatheredFacts {
    var facts = HostFacts()
    var state = "/var/lib/dasprov"
    var records: HostRecords?
    var sawDone = false
    var catRange: Range<Int>?
    let requests = program.requests
    for r in requests { facts.paths[r.path] = .missing }
    while let line = nextLine() {
      guard line.count >= 2, bytes[line.lowerBound] == 64 /* @ */ else { continue }
      let space = find(32, in: line) ?? line.upperBound
      let tag = line.lowerBound..<space
      let rest = space < line.upperBound ? (space + 1)..<line.upperBound : line.upperBound..<line.upperBound
      switch true {
      case equals(tag, "@raw"): tail = [10] + Array(bytes[rest]) + [10]
      case equals(tag, "@state"): state = string(rest)
      case equals(tag, "@os"): parseOS(into: &facts)
      case equals(tag, "@hostname"): facts.hostname = string(rest)
      case equals(tag, "@user"): facts.user = string(rest)
      case equals(tag, "@addresses"): facts.addresses = string(rest).split(separator: " ").map(String.init)
      case equals(tag, "@pending"):
        while let l = nextLine(), !equals(l, "@end") {
          if !l.isEmpty { facts.pendingHandlers.append(string(l)) }
        }
      case equals(tag, "@account"):
        // Four lines (owner, user, JAVA_HOME, problem: empty when there is none), then @end.
        var lines: [String] = []
        while let l = nextLine(), !equals(l, "@end") { lines.append(string(l)) }
        guard lines.count == 4 else { throw FactOutputError(description: "unexpected account lines: \(lines.count)") }
        facts.accounts[string(rest)] = ServiceAccount(
          owner: lines[0], user: lines[1], javaHome: lines[2], problem: lines[3].isEmpty ? nil : lines[3])
      case equals(tag, "@records"):
        var parsed = HostRecords()
        while let l = nextLine(), !equals(l, "@end") { parsed.add(line: UnsafeBufferPointer(rebasing: bytes[l])) }
        records = parsed
      case equals(tag, "@find"): parseFind(try raw(after: line), into: &facts)
      case equals(tag, "@sha"): parseSHA(try raw(after: line), into: &facts)
      case equals(tag, "@cat"): catRange = try raw(after: line)
      case equals(tag, "@list"):
        let index = try indexed(rest, requests.count, line)
        let section = try raw(after: line)
        facts.paths[requests[index].path]?.entries = split(section, by: 0).map(string).sorted()
      case equals(tag, "@probe"):
        let fields = rest.isEmpty ? [] : split(rest, by: 32)
        let index = try indexed(fields.first ?? rest, program.probes.count, line)
        facts.probes[program.probes[index].argv] = fields.count > 1 ? Int32(string(fields[1])) ?? 1 : 1
      case equals(tag, "@probeout"):
        let index = try indexed(rest, program.probes.count, line)
        facts.probeOutputs[program.probes[index].argv] = Array(bytes[try raw(after: line)])
      case equals(tag, "@done"): sawDone = true
      default: continue
      }
    }
    guard sawDone else { throw FactOutputError(description: "the fact script did not finish (no @done)") }
    if let catRange { try takeContents(catRange, into: &facts) }
    return GatheredFacts(facts: facts, stateDirectory: state, records: records)
  }

  // MARK: - Sections

  /// The os-release keys facts keep (facts.sh sends only these).
  mutating func parseOS(into facts: inout HostFacts) {
    var prettyName: String?
    while let l = nextLine(), !equals(l, "@end") {
      guard let eq = find(61 /* = */, in: l) else { continue }
      var value = (eq + 1)..<l.upperBound
      if value.count >= 2, bytes[value.lowerBound] == 34 || bytes[value.lowerBound] == 39,
        bytes[value.upperBound - 1] == bytes[value.lowerBound]
      {
        value = (value.lowerBound + 1)..<(value.upperBound - 1)
      }
      let key = l.lowerBound..<eq
      if equals(key, "ID") {
        facts.osID = string(value)
      } else if equals(key, "ID_LIKE") {
        facts.osLike = string(value).split(separator: " ").map(String.init)
      } else if equals(key, "VERSION_ID") {
        facts.osVersion = string(value)
      } else if equals(key, "PRETTY_NAME") {
        prettyName = string(value)
      }
    }
    facts.osPrettyName = prettyName ?? facts.osID
  }

  /// `find -printf`: seven NUL-ended fields per existing path, in the order of the arguments.
  func parseFind(_ section: Range<Int>, into facts: inout HostFacts) {
    var fields: [Range<Int>] = []
    fields.reserveCapacity(7)
    var at = section.lowerBound
    var next = 0
    let requests = program.requests
    while at < section.upperBound {
      let end = find(0, in: at..<section.upperBound) ?? section.upperBound
      fields.append(at..<end)
      at = end + 1
      guard fields.count == 7 else { continue }
      defer { fields.removeAll(keepingCapacity: true) }
      // find answers in argument order, skipping what is missing.
      var path: String?
      while next < requests.count {
        defer { next += 1 }
        if equals(fields[0], requests[next].path) {
          path = requests[next].path
          break
        }
      }
      let type: PathFacts.FileType
      switch fields[1].count == 1 ? bytes[fields[1].lowerBound] : 0 {
      case 102: type = .file  // f
      case 100: type = .directory  // d
      case 108: type = .symlink  // l
      default: type = .other
      }
      facts.paths[path ?? string(fields[0])] = PathFacts(
        type: type, mode: number(fields[2], radix: 8), owner: string(fields[3]), group: string(fields[4]),
        size: number(fields[5], radix: 10), linkTarget: type == .symlink ? string(fields[6]) : nil)
    }
  }

  /// sha256sum: `HASH  NAME` per readable path, in argument order; a line starting with a
  /// backslash has an escaped name.
  func parseSHA(_ section: Range<Int>, into facts: inout HostFacts) {
    let hashed = program.requests.filter { !$0.needs.isDisjoint(with: [.hash, .content]) }
    var next = 0
    for record in split(section, by: 10) {
      var r = record
      let escaped = bytes[r.lowerBound] == 92
      if escaped { r = (r.lowerBound + 1)..<r.upperBound }
      guard r.count > 66 else { continue }
      let name = (r.lowerBound + 66)..<r.upperBound
      var path: String?
      if escaped {
        path = FactProgram.unescapeChecksumName(string(name))
      } else {
        while next < hashed.count {
          defer { next += 1 }
          if equals(name, hashed[next].path) {
            path = hashed[next].path
            break
          }
        }
      }
      let key = path ?? string(name)
      if facts.paths[key]?.type == .file { facts.paths[key]?.sha256 = string(r.lowerBound..<(r.lowerBound + 64)) }
    }
  }

  /// `cat` wrote the regular files among the requests, in order; their sizes come from `find`.
  /// A mismatch means a file changed while we looked: contents are not trusted. Their digests
  /// are computed here, from the bytes the plan will use.
  func takeContents(_ section: Range<Int>, into facts: inout HostFacts) throws(FactOutputError) {
    let readable = program.requests.filter { facts.paths[$0.path]?.type == .file }
    let sizes = readable.map { facts.paths[$0.path]?.size ?? 0 }
    guard sizes.reduce(0, +) == section.count else {
      throw FactOutputError(description: "files changed while their contents were read (or one is unreadable); run again")
    }
    var offset = section.lowerBound
    for (r, size) in zip(readable, sizes) {
      if size <= FactProgram.contentLimit {
        let content = Array(bytes[offset..<(offset + size)])
        facts.paths[r.path]?.content = content
        facts.paths[r.path]?.sha256 = SHA256.hex(content)
      }
      offset += size
    }
  }

  // MARK: - Scanning

  /// The next line, without its newline; nil at the end of the output.
  mutating func nextLine() -> Range<Int>? {
    guard position < bytes.count else { return nil }
    let stop = find(10, in: position..<bytes.count) ?? bytes.count
    defer { position = min(stop + 1, bytes.count) }
    return position..<stop
  }

  /// The bytes up to the next "\n" + marker + "\n", which it steps over.
  mutating func raw(after header: Range<Int>) throws(FactOutputError) -> Range<Int> {
    let start = position
    var found: Int?
    if tail.count > 2, let base = bytes.baseAddress {
      // Each newline is a candidate: memchr to it, memcmp of the marker line after it.
      var at = start
      tail.withUnsafeBytes { t in
        while let nl = find(10, in: at..<bytes.count), nl + t.count <= bytes.count {
          if memcmp(base + nl, t.baseAddress!, t.count) == 0 {
            found = nl
            return
          }
          at = nl + 1
        }
      }
    }
    guard let found else {
      let what = string(header.lowerBound..<min(header.upperBound, header.lowerBound + 40))
      throw FactOutputError(description: "the fact script's output ended inside '\(what)'")
    }
    position = found + tail.count
    return start..<found
  }

  func find(_ byte: UInt8, in range: Range<Int>) -> Int? {
    guard !range.isEmpty, let base = bytes.baseAddress,
      let hit = memchr(base + range.lowerBound, Int32(byte), range.count)
    else { return nil }
    return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
  }

  func split(_ range: Range<Int>, by byte: UInt8) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var at = range.lowerBound
    while at < range.upperBound {
      let end = find(byte, in: at..<range.upperBound) ?? range.upperBound
      if end > at { out.append(at..<end) }
      at = end + 1
    }
    return out
  }

  func equals(_ range: Range<Int>, _ s: StaticString) -> Bool {
    s.utf8CodeUnitCount == range.count && memcmp(bytes.baseAddress! + range.lowerBound, s.utf8Start, range.count) == 0
  }

  func equals(_ range: Range<Int>, _ s: String) -> Bool {
    var s = s
    return s.withUTF8 { u in
      u.count == range.count && (u.isEmpty || memcmp(bytes.baseAddress! + range.lowerBound, u.baseAddress!, u.count) == 0)
    }
  }

  func string(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }

  func number(_ range: Range<Int>, radix: Int) -> Int? {
    guard !range.isEmpty, range.count < 19 else { return nil }
    var n = 0
    for i in range {
      let d = Int(bytes[i]) - 48
      guard d >= 0, d < radix else { return nil }
      n = n * radix + d
    }
    return n
  }

  func indexed(_ field: Range<Int>, _ count: Int, _ line: Range<Int>) throws(FactOutputError) -> Int {
    guard let i = number(field, radix: 10), i < count else {
      throw FactOutputError(description: "unexpected fact line: \(string(line.lowerBound..<min(line.upperBound, line.lowerBound + 80)))")
    }
    return i
  }
}
