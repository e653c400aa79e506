import DasprovCore
import DasprovShell
import DasprovTestSupport
import DasprovTasks
import Foundation
import Testing

@testable import DasprovEngine

/// Runs a remote script with the local /bin/sh, as sshd would on a host, with HOME in a temp dir
/// so the state directory is private. This tests the scripts themselves; the SSH transport is
/// tested against real sshd in DasprovSSHTests and the integration suite.
func runLocally(_ script: String, home: String) async throws -> CommandOutput {
  let r = try await Command.run(
    "/bin/sh", ["-s"], input: .text(script), environment: ["HOME": home, "DASPROV_STATE_DIR": home + "/state"])
  return CommandOutput(status: r.status, stdout: r.stdout, stderr: r.stderr)
}

/// A scratch directory removed at the end of the test.
final class Scratch {
  let path: String
  init() throws {
    path = NSTemporaryDirectory() + "dasprov-engine-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
  deinit { try? FileManager.default.removeItem(atPath: path) }
  func write(_ name: String, _ text: String) throws {
    let full = path + "/" + name
    try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: full, atomically: false, encoding: .utf8)
  }
  func read(_ name: String) -> String? { try? String(contentsOfFile: path + "/" + name, encoding: .utf8) }
}

/// The state directory `runLocally` gives the scripts.
func stateDir(_ s: Scratch) -> String { s.path + "/home/state" }

@Suite struct RemoteScriptTests {
  /// The survey: every path's stat and digest, the record, probes — no contents; those come in
  /// the contents round trip, with their stat again.
  @Test func theSurveySendsDigestsAndTheContentsRoundTripTheBytes() async throws {
    let s = try Scratch()
    try s.write("conf/a.xml", "<a enable=\"false\"/>\n")
    try FileManager.default.createSymbolicLink(atPath: s.path + "/link", withDestinationPath: s.path + "/conf")
    try s.write("cep/-1234/Plan/1_Plan", "x")
    try s.write("cep/-1234/Plan/2_Plan", "y")
    let requests = [
      FactRequest(s.path + "/conf/a.xml", [.stat, .hash, .content]), FactRequest(s.path + "/link", [.stat]),
      FactRequest(s.path + "/missing file $(x)", [.stat, .hash]), FactRequest(s.path + "/cep", [.stat, .listing]),
      FactRequest(s.path + "/conf/odd\\name\nwith newline ü.txt", [.stat, .hash, .content]),
      FactRequest(s.path + "/conf", [.stat, .content]),
    ]
    try s.write("conf/odd\\name\nwith newline ü.txt", "odd\n")
    let probes = [ProbeRequest(["true"]), ProbeRequest(["sh", "-c", "exit 3"])]
    let tag = HostRecords.tag(host: "h", path: s.path + "/conf/a.xml")
    let line = HostRecords.text(tag: tag, FileRecord(key: .of([1]), output: .of([2])))
    try s.write("home/state/records", "junk\n" + line + "\n")
    let program = FactProgram(requests: requests, probes: probes, records: true)
    let out = try await runLocally(program.program.text, home: s.path + "/home")
    #expect(out.status == 0, "\(String(decoding: out.stderr, as: UTF8.self))")
    let gathered = try program.parse(out.stdout)
    #expect(gathered.records?.lines == [tag: FileRecord(key: .of([1]), output: .of([2]))])
    let facts = gathered.facts
    #expect(!String(decoding: out.stdout, as: UTF8.self).contains("enable="), "the survey sends no contents")
    let a = facts.path(s.path + "/conf/a.xml")
    #expect(a.type == .file)
    #expect(a.mode == 0o644)
    #expect(a.content == nil)
    #expect(a.sha256 == SHA256.hex(Array("<a enable=\"false\"/>\n".utf8)))
    #expect(facts.path(s.path + "/link").type == .symlink)
    #expect(facts.path(s.path + "/link").linkTarget == s.path + "/conf")
    #expect(facts.path(s.path + "/missing file $(x)").type == .missing)
    #expect(facts.path(s.path + "/cep").entries == ["-1234/Plan/1_Plan", "-1234/Plan/2_Plan"])
    let odd = facts.path(s.path + "/conf/odd\\name\nwith newline ü.txt")
    #expect(odd.type == .file)
    #expect(odd.sha256 == SHA256.hex(Array("odd\n".utf8)), "escaped names are matched to their hashes")
    #expect(facts.path(s.path + "/conf").type == .directory)
    #expect(facts.probes[["true"]] == 0)
    #expect(facts.probes[["sh", "-c", "exit 3"]] == 3)
    #expect(!facts.osID.isEmpty)
    #expect(!facts.hostname.isEmpty)

    let read = FactProgram(contentsOf: [s.path + "/conf/a.xml", s.path + "/missing file $(x)", oddName(s), s.path + "/conf"])
    let second = try await runLocally(read.program.text, home: s.path + "/home")
    let contents = try read.parse(second.stdout).facts
    #expect(contents.path(s.path + "/conf/a.xml").content == Array("<a enable=\"false\"/>\n".utf8))
    #expect(contents.path(s.path + "/conf/a.xml").sha256 == a.sha256)
    #expect(contents.path(oddName(s)).content == Array("odd\n".utf8))
    #expect(contents.path(s.path + "/missing file $(x)").type == .missing)
    #expect(contents.path(s.path + "/conf").type == .directory)
    #expect(contents.path(s.path + "/conf").content == nil)
  }

  private func oddName(_ s: Scratch) -> String { s.path + "/conf/odd\\name\nwith newline ü.txt" }

  /// Raw sections end only at the script's own marker: contents that look like fact lines, a
  /// marker of another run, NUL bytes and no final newline all arrive byte for byte.
  @Test func rawSectionsCarryAnyBytes() async throws {
    let s = try Scratch()
    let tricky: [UInt8] = Array("<a/>\n@done\n@end-0-0-0-0\n@cat\n".utf8) + [0, 0xff, 0x0a, 0x40] + Array("no newline at the end".utf8)
    #expect(FileManager.default.createFile(atPath: s.path + "/t.xml", contents: Data(tricky)))
    try s.write("empty", "")
    let probes = [ProbeRequest(["printf", "%s", "@done\n@probe 0 7"], capture: true)]
    let survey = FactProgram(requests: [FactRequest(s.path + "/t.xml", [.stat, .content])], probes: probes)
    let first = try await runLocally(survey.program.text, home: s.path + "/home")
    let surveyed = try survey.parse(first.stdout).facts
    #expect(surveyed.probeOutputs[probes[0].argv] == Array("@done\n@probe 0 7".utf8))
    #expect(surveyed.probes[probes[0].argv] == 0)
    #expect(surveyed.path(s.path + "/t.xml").sha256 == SHA256.hex(tricky))
    let program = FactProgram(contentsOf: [s.path + "/t.xml", s.path + "/empty"])
    let out = try await runLocally(program.program.text, home: s.path + "/home")
    #expect(out.status == 0, "\(String(decoding: out.stderr, as: UTF8.self))")
    let facts = try program.parse(out.stdout).facts
    #expect(facts.path(s.path + "/t.xml").content == tricky)
    #expect(facts.path(s.path + "/t.xml").sha256 == SHA256.hex(tricky))
    #expect(facts.path(s.path + "/empty").content == [])
    // Output cut off inside a raw section is an error, not facts.
    let cut = Array(out.stdout.prefix(out.stdout.count / 2))
    #expect(throws: FactOutputError.self) { try program.parse(cut) }
  }

  @Test func applyScriptWritesAtomicallyBacksUpAndRollsBack() async throws {
    let s = try Scratch()
    try s.write("conf/a.xml", "old\n")
    chmod(s.path + "/conf/a.xml", 0o600)
    let nasty = s.path + "/conf/it's $(odd) `x`.txt"
    let changes: [Change] = [
      .write(path: s.path + "/conf/a.xml", content: Array("new <&>\n".utf8), mode: nil, owner: nil, group: nil),
      .write(path: nasty, content: Array("ünïcode\n".utf8), mode: 0o640, owner: nil, group: nil),
      .symlink(path: s.path + "/das", target: s.path + "/conf"),
      .makeDirectory(path: s.path + "/d/e", mode: 0o750, owner: nil, group: nil),
    ]
    let runID = "20261125T000000000Z-\(UUID().uuidString.prefix(8))"
    let out = try await runLocally(ApplyProgram(changes: changes, runID: runID, notify: ["test-handler-\(runID)"], stagingDirectory: "/nonexistent", hostName: "test-host").program.text, home: s.path + "/home")
    let report = ApplyProgram.report(out.stdout)
    #expect(report.finished, "\(String(decoding: out.stdout + out.stderr, as: UTF8.self))")
    #expect(report.done == [0, 1, 2, 3])
    #expect(s.read("conf/a.xml") == "new <&>\n")
    var st = stat()
    stat(s.path + "/conf/a.xml", &st)
    #expect(st.st_mode & 0o777 == 0o600, "the replaced file keeps its mode")
    stat(nasty, &st)
    #expect(st.st_mode & 0o777 == 0o640)
    #expect(try String(contentsOfFile: nasty, encoding: .utf8) == "ünïcode\n")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: s.path + "/das") == s.path + "/conf")
    #expect(s.read("conf/a.xml.dasprov-\(runID).bak") == "old\n")
    let state = stateDir(s)
    #expect(FileManager.default.fileExists(atPath: "\(state)/pending/test-handler-\(runID)"))
    // No temporary file is left behind.
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: s.path + "/conf").filter { $0.contains("dasprov-tmp") }
    #expect(leftovers.isEmpty)
    try FileManager.default.removeItem(atPath: "\(state)/pending/test-handler-\(runID)")

    // Rollback restores the old content, removes what the run created, and re-marks the handler.
    let rb = try await runLocally(RollbackProgram().program.text, home: s.path + "/home")
    let text = String(decoding: rb.stdout, as: UTF8.self)
    #expect(text.contains("@rolled-back"), "\(text) \(String(decoding: rb.stderr, as: UTF8.self))")
    #expect(s.read("conf/a.xml") == "old\n")
    #expect(!FileManager.default.fileExists(atPath: nasty))
    #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: s.path + "/das")) == nil)
    #expect(text.contains("@notify test-handler-\(runID)"))

  }

  @Test func aFailedWriteLeavesTheOriginalIntact() async throws {
    let s = try Scratch()
    try s.write("ro/a.conf", "original\n")
    chmod(s.path + "/ro", 0o555)
    defer { chmod(s.path + "/ro", 0o755) }
    // Root ignores directory permissions; a missing directory fails for everyone.
    let target = getuid() == 0 ? s.path + "/no-such-dir/a.conf" : s.path + "/ro/a.conf"
    let out = try await runLocally(
      ApplyProgram(changes: [.write(path: target, content: Array("new\n".utf8), mode: nil, owner: nil, group: nil)], runID: "t\(UUID().uuidString.prefix(6))", notify: [], stagingDirectory: "/x", hostName: "test-host").program.text,
      home: s.path + "/home")
    let report = ApplyProgram.report(out.stdout)
    #expect(!report.finished)
    #expect(report.failure?.index == 0)
    #expect(s.read("ro/a.conf") == "original\n")
  }

  @Test func backupsKeepTheLastFive() async throws {
    let s = try Scratch()
    try s.write("f.conf", "v0\n")
    for i in 1...7 {
      let runID = String(format: "20261125T0000%02d000Z", i)
      let out = try await runLocally(
        ApplyProgram(changes: [.write(path: s.path + "/f.conf", content: Array("v\(i)\n".utf8), mode: nil, owner: nil, group: nil)], runID: runID, notify: [], stagingDirectory: "/x", hostName: "test-host").program.text,
        home: s.path + "/home")
      #expect(ApplyProgram.report(out.stdout).finished)
    }
    let backups = try FileManager.default.contentsOfDirectory(atPath: s.path).filter { $0.hasSuffix(".bak") }.sorted()
    #expect(backups.count == 5)
    #expect(backups.first == "f.conf.dasprov-20261125T000003000Z.bak")
  }
}

@Suite struct UnifiedDiffTests {
  @Test func matchesDiffU() async throws {
    let s = try Scratch()
    let old = (1...20).map { "line \($0)" }.joined(separator: "\n") + "\n"
    var newLines = (1...20).map { "line \($0)" }
    newLines[4] = "line five"
    newLines.insert("inserted", at: 15)
    newLines.remove(at: 18)
    let new = newLines.joined(separator: "\n") + "\n"
    try s.write("a", old)
    try s.write("b", new)
    let expected = try await Command.run("/usr/bin/diff", ["-u", "--label", "a", "--label", "b", s.path + "/a", s.path + "/b"]).stdoutText
    let ours = UnifiedDiff.diff(old: old, new: new, oldName: "a", newName: "b")
    #expect(ours == expected)
  }

  @Test func identicalTextsHaveNoDiff() {
    #expect(UnifiedDiff.diff(old: "a\n", new: "a\n", oldName: "x", newName: "y") == "")
  }
}
