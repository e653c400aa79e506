import DasprovCore
import DasprovShell
import DasprovTasks
import Foundation

/// What one fact round trip brought back: the host's facts and its dasprov state directory.
public struct GatheredFacts: Sendable {
  public var facts: HostFacts
  public var stateDirectory: String
}

/// The fact output could not be read: cut short, or not what facts.sh prints.
public struct FactOutputError: Error, Sendable, CustomStringConvertible {
  public var description: String
}

/// facts.sh for one host: everything its plan needs — every path's type, mode, owner, size,
/// digest and (for files edited on the controller) contents, directory listings, guard
/// commands — asked in one exec, and the parser of what it answers.
public struct FactProgram: Sendable {
  /// Files larger than this are hashed but not fetched for editing or diffing.
  public static let contentLimit = 1 << 20

  public let requests: [FactRequest]
  public let probes: [ProbeRequest]
  /// Also the host's IP addresses (`dasprov facts`).
  public let addresses: Bool
  /// Ends each raw section; drawn at random per run, so no file can hold it by chance.
  public let endMarker: String

  public init(requests: [FactRequest], probes: [ProbeRequest], addresses: Bool = false, endMarker: String = FactProgram.randomEndMarker()) {
    self.requests = requests
    self.probes = probes
    self.addresses = addresses
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
    if addresses { p.step("addresses", []) }
    if !requests.isEmpty { p.step("facts_find", requests.map(\.path)) }
    let hashed = requests.filter { $0.needs.contains(.hash) }.map(\.path)
    if !hashed.isEmpty { p.step("facts_sha", hashed) }
    let read = requests.filter { $0.needs.contains(.content) }.map(\.path)
    if !read.isEmpty { p.step("facts_cat", read) }
    for (i, r) in requests.enumerated() where r.needs.contains(.listing) { p.step("facts_list", [String(i), r.path]) }
    for (i, probe) in probes.enumerated() { p.step(probe.capture ? "probe_output" : "probe", [String(i)] + probe.argv) }
    return p
  }

  /// Parses facts.sh's output: contents and listings are matched to this program's requests
  /// by order and index.
  public func parse(_ output: [UInt8]) throws(FactOutputError) -> GatheredFacts {
    // Byte-wise: most of the output is file contents, which needs no Unicode handling; only
    // the short lines become Strings.
    var facts = HostFacts()
    var state = "/var/lib/dasprov"
    var reader = FactReader(output)
    var sawDone = false
    var osRelease: [String: String] = [:]
    var shaByPath: [String: String] = [:]
    var catBytes: [UInt8]?
    for r in requests { facts.paths[r.path] = .missing }
    func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
    while let line = reader.line() {
      let fields = FactLine(line)
      switch fields.tag {
      case "@raw": reader.end = Array(fields.first)
      case "@state": state = text(line.dropFirst(7))
      case "@os":
        for l in reader.linesUntilEnd() {
          guard let eq = l.firstIndex(of: "=") else { continue }
          var value = String(l[l.index(after: eq)...])
          if value.count >= 2, value.first == "\"" || value.first == "'", value.last == value.first {
            value = String(value.dropFirst().dropLast())
          }
          osRelease[String(l[..<eq])] = value
        }
      case "@hostname": facts.hostname = text(line.dropFirst(10))
      case "@user": facts.user = text(line.dropFirst(6))
      case "@addresses":
        facts.addresses = text(line.dropFirst(11)).split(separator: " ").map(String.init)
      case "@pending":
        facts.pendingHandlers += reader.linesUntilEnd().filter { !$0.isEmpty }
      case "@find":
        let fields = try reader.raw(after: line).split(separator: 0, omittingEmptySubsequences: false).map {
          String(decoding: $0, as: UTF8.self)
        }
        var k = 0
        while k + 7 <= fields.count {
          let f = fields[k..<(k + 7)].map { $0 }
          k += 7
          let type: PathFacts.FileType
          switch f[1] {
          case "f": type = .file
          case "d": type = .directory
          case "l": type = .symlink
          default: type = .other
          }
          facts.paths[f[0]] = PathFacts(
            type: type, mode: Int(f[2], radix: 8), owner: f[3], group: f[4], size: Int(f[5]),
            linkTarget: type == .symlink ? f[6] : nil)
        }
      case "@sha":
        // "HASH  NAME" per line; a line starting with a backslash has an escaped name.
        for record in try reader.raw(after: line).split(separator: UInt8(ascii: "\n")) {
          var r = String(decoding: record, as: UTF8.self)
          let escaped = r.hasPrefix("\\")
          if escaped { r.removeFirst() }
          guard r.count > 66 else { continue }
          var name = String(r.dropFirst(66))
          if escaped { name = Self.unescapeChecksumName(name) }
          shaByPath[name] = String(r.prefix(64))
        }
      case "@cat":
        catBytes = Array(try reader.raw(after: line))
      case "@list":
        let index = try Self.indexed(fields, requests.count, line)
        let raw = try reader.raw(after: line)
        facts.paths[requests[index].path]?.entries = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.sorted()
      case "@probe":
        let index = try Self.indexed(fields, probes.count, line)
        facts.probes[probes[index].argv] = Int32(text(fields.rest ?? [])) ?? 1
      case "@probeout":
        let index = try Self.indexed(fields, probes.count, line)
        facts.probeOutputs[probes[index].argv] = Array(try reader.raw(after: line))
      case "@done": sawDone = true
      default: continue
      }
    }
    guard sawDone else { throw FactOutputError(description: "the fact script did not finish (no @done)") }
    for (path, sha) in shaByPath where facts.paths[path]?.type == .file { facts.paths[path]?.sha256 = sha }
    if let catBytes {
      // `cat` wrote the regular files among the content requests, in order; their sizes come
      // from `find`. A mismatch means a file changed while we looked: contents are not trusted.
      let readable = requests.filter { $0.needs.contains(.content) && facts.paths[$0.path]?.type == .file }
      let sizes = readable.map { facts.paths[$0.path]?.size ?? 0 }
      if sizes.reduce(0, +) == catBytes.count {
        var offset = 0
        for (r, size) in zip(readable, sizes) {
          if size <= Self.contentLimit { facts.paths[r.path]?.content = Array(catBytes[offset..<(offset + size)]) }
          offset += size
        }
      } else {
        throw FactOutputError(description: "files changed while their contents were read (or one is unreadable); run again")
      }
    }
    facts.osID = osRelease["ID"] ?? ""
    facts.osLike = (osRelease["ID_LIKE"] ?? "").split(separator: " ").map(String.init)
    facts.osVersion = osRelease["VERSION_ID"] ?? ""
    facts.osPrettyName = osRelease["PRETTY_NAME"] ?? facts.osID
    return GatheredFacts(facts: facts, stateDirectory: state)
  }

  static func indexed(_ fields: FactLine, _ count: Int, _ line: ArraySlice<UInt8>) throws(FactOutputError) -> Int {
    guard let i = Int(String(decoding: fields.first, as: UTF8.self)), i >= 0, i < count else {
      throw FactOutputError(description: "unexpected fact line: \(String(decoding: line.prefix(80), as: UTF8.self))")
    }
    return i
  }
}

extension FactProgram {
  /// Undoes sha256sum's escaping of a file name (`\\\\` and `\\n`).
  static func unescapeChecksumName(_ s: String) -> String {
    var out = ""
    var it = s.makeIterator()
    while let c = it.next() {
      guard c == "\\", let n = it.next() else { out.append(c); continue }
      out.append(n == "n" ? "\n" : n)
    }
    return out
  }

  /// Reads the fact script's output: lines, and raw sections ended by the script's marker.
  struct FactReader {
    let bytes: [UInt8]
    var position = 0
    /// The end marker, from the script's `@raw` line.
    var end: [UInt8] = []

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The next line, without its newline; nil at the end of the output.
    mutating func line() -> ArraySlice<UInt8>? {
      guard position < bytes.count else { return nil }
      let stop = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
      defer { position = min(stop + 1, bytes.count) }
      return bytes[position..<stop]
    }

    /// The bytes up to the next "\n" + marker + "\n", which it steps over.
    mutating func raw(after header: ArraySlice<UInt8>) throws(FactOutputError) -> ArraySlice<UInt8> {
      let tail = [UInt8(ascii: "\n")] + end + [UInt8(ascii: "\n")]
      guard !end.isEmpty, let found = bytes[position...].firstRange(of: tail) else {
        throw FactOutputError(description: "the fact script's output ended inside '\(String(decoding: header.prefix(40), as: UTF8.self))'")
      }
      defer { position = found.upperBound }
      return bytes[position..<found.lowerBound]
    }

    /// The lines up to the next `@end` line, which it steps over.
    mutating func linesUntilEnd() -> [String] {
      var out: [String] = []
      while let raw = line() {
        let l = String(decoding: raw, as: UTF8.self)
        if l == "@end" { break }
        out.append(l)
      }
      return out
    }
  }

  /// A fact line split at its first two spaces: `@tag first rest`, as byte slices.
  struct FactLine {
    var tag: String
    var first: ArraySlice<UInt8>
    var rest: ArraySlice<UInt8>?

    init(_ line: ArraySlice<UInt8>) {
      let space = UInt8(ascii: " ")
      guard let a = line.firstIndex(of: space) else {
        tag = String(decoding: line, as: UTF8.self)
        first = []
        return
      }
      tag = String(decoding: line[..<a], as: UTF8.self)
      let after = line[(a + 1)...]
      if let b = after.firstIndex(of: space) {
        first = after[..<b]
        rest = after[(b + 1)...]
      } else {
        first = after
      }
    }
  }
}
