import DasprovCore
import DasprovTasks
import DasprovXML
import Foundation

/// The key of a record line: the digest of everything on the controller that a file's plan is a
/// function of, besides the file's content.
///
/// - the run: dasprov's build and libxml2's version (the planning code), the project's files
///   (modules, templates, playbooks), and the inventory's values — every host's variables and
///   groups, which expressions read through `hostvars` and `groups`;
/// - the host: its name and the facts expressions read (OS, host name, user);
/// - the file: its path, and the tasks that touch it, in order (play, module, task, loop item),
///   after their conditions.
///
/// Variables are not traced: any change of the inventory changes every key, and the next run
/// plans every file the slow way once (and rewrites the record).
struct RecordKeys: Sendable {
  /// Everything but the host and the file.
  let run: Digest256

  init(project: Project, world: World) {
    var w = DigestWriter()
    w.text("dasprov-record-key/1")
    w.text(Self.build)
    w.digest(project.sourceDigest)
    w.text(world.inventoryDirectory)
    for group in world.groupMembers.keys.sorted() {
      w.text(group)
      for name in world.groupMembers[group] ?? [] { w.text(name) }
      w.end()
    }
    for host in world.hosts {
      w.text(host.name)
      w.value(world.hostObjects[host.name] ?? .null)
    }
    run = w.finish()
  }

  /// What identifies the planning code: the version, the executable (its size and time, which a
  /// rebuild changes) and the XML library's version.
  static let build: String = {
    var st = stat()
    let exe = stat("/proc/self/exe", &st) == 0 ? "\(st.st_size)/\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" : "?"
    return "\(DasprovVersion.string) \(exe) libxml2 \(XMLEditor.libraryVersion)"
  }()

  /// The part of every key of one host.
  func host(_ name: String, facts: HostFacts) -> Digest256 {
    var w = DigestWriter()
    w.digest(run)
    w.text(name)
    for s in [facts.osID, facts.osVersion, facts.osPrettyName, facts.hostname, facts.user] { w.text(s) }
    for s in facts.osLike { w.text(s) }
    w.end()
    for s in facts.addresses { w.text(s) }
    w.end()
    // Who the servers run as, and with which JAVA_HOME (the facts program's `account` steps):
    // no recordable task reads them today, but they are facts of this host that a plan sees.
    for name in facts.accounts.keys.sorted() {
      guard let a = facts.accounts[name] else { continue }
      for s in [name, a.owner, a.user, a.javaHome, a.problem ?? "\u{0}"] { w.text(s) }
    }
    w.end()
    return w.finish()
  }

  /// The key of one file: the host's part, its path, and the tasks that touch it.
  static func file(host: Digest256, path: String, tasks: [TaskInstance]) -> Digest256 {
    var w = DigestWriter()
    w.digest(host)
    w.text(path)
    for t in tasks {
      w.text(t.play.name)
      w.text(t.module.name)
      w.int(t.taskIndex)
      w.int(t.loopIndex ?? -1)
    }
    return w.finish()
  }
}

/// dasprov's version, for the record keys (and `--version`).
public enum DasprovVersion {
  public static let string = "0.1.0"
}

/// Feeds values to SHA-256 unambiguously: every item is tagged and sized.
struct DigestWriter {
  private var buffer: [UInt8] = []

  init() { buffer.reserveCapacity(1024) }

  mutating func text(_ s: String) {
    buffer.append(0x73)
    int(s.utf8.count)
    buffer.append(contentsOf: s.utf8)
  }

  mutating func int(_ i: Int) {
    withUnsafeBytes(of: Int64(i).littleEndian) { buffer.append(contentsOf: $0) }
  }

  mutating func end() { buffer.append(0x2e) }

  mutating func digest(_ d: Digest256) {
    for w in [d.words.0, d.words.1, d.words.2, d.words.3] { withUnsafeBytes(of: w.bigEndian) { buffer.append(contentsOf: $0) } }
  }

  mutating func value(_ v: Value) {
    switch v {
    case .null: buffer.append(0x6e)
    case .bool(let b): buffer.append(b ? 0x74 : 0x66)
    case .int(let i):
      buffer.append(0x69)
      int(i)
    case .double(let d):
      buffer.append(0x64)
      withUnsafeBytes(of: d.bitPattern.littleEndian) { buffer.append(contentsOf: $0) }
    case .string(let s): text(s)
    case .list(let items):
      buffer.append(0x6c)
      int(items.count)
      for item in items { value(item) }
    case .map(let m):
      buffer.append(0x6d)
      int(m.count)
      for k in m.keys.sorted() {
        text(k)
        value(m[k]!)
      }
    }
  }

  mutating func finish() -> Digest256 {
    var h = SHA256()
    h.update(buffer)
    return Digest256(raw: h.finalize())
  }
}
