import DasprovCore
import DasprovSSH
import DasprovTasks
import DasprovEngine
import DasprovTestSupport
import Foundation
import Testing

/// A script cut off on its way to the host (dasprov killed, the connection lost) must run
/// nothing at all. `sh -s` runs each line as soon as it has read it, so without the brace group
/// of `SSHSession.wholeOrNothing` the last line would run cut short: a `commit` into a prefix of
/// the file's name, an `rm -fr` of a prefix of a path.
///
/// Every path in the script is relative to a scratch directory, so even a regression cannot
/// reach outside it (an absolute path cut short could be `/tmp` or `/opt`).
@Suite struct InterruptedScriptTests {
  /// For every N in `cuts`, runs the first N bytes of `scratch/script` with `sh -s` in
  /// `scratch/tN`, a copy of `scratch/seed`; in one shell loop, as a process per cut started
  /// from the test is slow.
  func runCut(_ cuts: [Int], in scratch: String) async throws {
    let arguments = [
      "-c",
      """
      cd "$1" && shift
      for n in "$@"; do
        cp -a seed "t$n" && (cd "t$n" && head -c "$n" ../script | DASPROV_STATE_DIR="$PWD/state" sh -s >/dev/null 2>&1)
      done
      exit 0
      """,
      "sh", scratch,
    ] + cuts.map(String.init)
    _ = try await Command.run(
      "/bin/sh", arguments, environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"], inheritEnvironment: false,
      stdout: .discard, stderr: .discard)
  }

  /// Every file, directory and link under `root`, with contents, as one comparable listing.
  func snapshot(_ root: String) -> [String] {
    let fm = FileManager.default
    var out: [String] = []
    for case let path as String in fm.enumerator(atPath: root) ?? FileManager.DirectoryEnumerator() {
      let full = root + "/" + path
      if let target = try? fm.destinationOfSymbolicLink(atPath: full) {
        out.append("\(path) -> \(target)")
      } else if let data = fm.contents(atPath: full) {
        out.append("\(path): \(SHA256.hex(Array(data)))")
      } else {
        out.append("\(path)/")
      }
    }
    return out.sorted()
  }

  /// The tree the scripts start from: a DAS-like home with a config file and a C-App.
  func seed(_ root: String) throws {
    let fm = FileManager.default
    try? fm.removeItem(atPath: root)
    try fm.createDirectory(atPath: root + "/das/repository/conf/datasources", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: root + "/das/repository/deployment/server/carbonapps", withIntermediateDirectories: true)
    try Data("<datasources old/>\n".utf8).write(to: URL(fileURLWithPath: root + "/das/repository/conf/datasources/master-datasources.xml"))
    try Data("car".utf8).write(to: URL(fileURLWithPath: root + "/das/repository/deployment/server/carbonapps/Old.car"))
  }

  @Test func anApplyScriptCutOffAnywhereChangesNothing() async throws {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dasprov-cut-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let changes: [Change] = [
      .write(path: "das/repository/conf/datasources/master-datasources.xml", content: Array("<datasources new/>\n".utf8), mode: nil, owner: nil, group: nil),
      .symlink(path: "das-link", target: "das"),
      .remove(path: "das/repository/deployment/server/carbonapps/Old.car", recursive: true, backup: false),
      .makeDirectory(path: "das/repository/components/lib", mode: 0o755, owner: nil, group: nil),
    ]
    let script = Array(SSHSession.wholeOrNothing(ApplyProgram(changes: changes, runID: "20261125T000000000Z", notify: ["restart"], stagingDirectory: "staging", hostName: "test-host").program.text).utf8)
    try seed(scratch + "/seed")
    try Data(script).write(to: URL(fileURLWithPath: scratch + "/script"))
    let before = snapshot(scratch + "/seed")

    // Cut at every line boundary and its neighbours, and every few bytes in between; a script
    // that lacks only its last newline has arrived whole.
    let whole = script.count - 1
    var cuts = Set(stride(from: 0, to: whole, by: 6))
    for (i, byte) in script.enumerated() where byte == UInt8(ascii: "\n") { cuts.formUnion([i - 1, i, i + 1].filter { $0 >= 0 && $0 < whole }) }
    try await runCut(cuts.sorted() + [whole, script.count], in: scratch)

    for n in [whole, script.count] {
      let after = snapshot(scratch + "/t\(n)")
      #expect(after.contains("das/repository/conf/datasources/master-datasources.xml: \(SHA256.hex(Array("<datasources new/>\n".utf8)))"), "\(after)")
      #expect(!after.contains { $0.hasPrefix("das/repository/deployment/server/carbonapps/Old.car") })
      #expect(after.contains("das-link -> das"))
    }
    var damaged: [String] = []
    for cut in cuts.sorted() {
      let now = snapshot(scratch + "/t\(cut)")
      if now != before {
        let line = String(decoding: script[..<cut], as: UTF8.self).split(separator: "\n").last ?? ""
        damaged.append("cut at byte \(cut) (…\(line.suffix(60))): \(Set(now).symmetricDifference(before).sorted())")
      }
    }
    #expect(damaged.count == 0, "a partial script changed the host:\n\(damaged.prefix(5).joined(separator: "\n"))")
  }
}
