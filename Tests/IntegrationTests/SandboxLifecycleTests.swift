import Foundation
import Testing

/// `dasprov sandbox …` as a new user runs it: from a stopped sandbox, with MariaDB, output to a
/// file or a pipe, no terminal. Each command returns promptly while the daemons it started run
/// on (`make demo` once waited forever for a MariaDB that `sandbox up` had started).
///
/// A sandbox of its own (state and addresses), so it runs beside the cluster suite.
@Suite(.serialized) struct SandboxLifecycle {
  let binary: String
  let state = "/var/tmp/dasprov-test-lifecycle"
  let net = "127.0.3"

  init() throws {
    guard let binary = ProcessInfo.processInfo.environment["DASPROV_BIN"] else { throw Sandbox.SandboxMissing() }
    self.binary = binary
  }

  /// Stops this suite's sandbox with the script itself (never through the code under test).
  @Sendable func stopAll() async {
    await Bounded.quietly("/bin/bash", [Sandbox.projectRoot + "/sandbox/sandbox.sh", "down", "--state", state])
  }

  func sandbox(_ command: [String], to destination: Bounded.Destination) async -> Bounded.Outcome {
    let args = ["sandbox", "--project", Sandbox.projectRoot] + command + ["--state", state, "--net", net]
    return await Bounded.run(binary, args, stdout: destination, timeout: 30, onTimeout: stopAll)
  }

  /// Pids of processes whose command line names this suite's state directory.
  func leftovers() -> [String] {
    let mine = String(getpid())
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { pid in
      guard pid.allSatisfy(\.isNumber), pid != mine,
        let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
      else { return false }
      return String(decoding: raw, as: UTF8.self).contains(state + "/")
    }
  }

  @Test func everyCommandReturnsWhileTheDaemonsItStartedRunOn() async throws {
    await stopAll()
    try? FileManager.default.removeItem(atPath: state)
    let log = NSTemporaryDirectory() + "dasprov-lifecycle-\(getpid()).log"
    defer { try? FileManager.default.removeItem(atPath: log) }

    // From nothing: `up` creates the hosts and starts MariaDB; output to a file.
    let up = await sandbox(["up", "--hosts", "1"], to: .file(log))
    #expect(!up.timedOut, "`dasprov sandbox up` (stdout to a file) did not return within 30 s")
    #expect(up.status == 0, "\(up.output)")
    #expect(up.output.contains("MariaDB host db1"), "\(up.output)")

    for command in [["status"], ["reset"]] {
      let r = await sandbox(command, to: .pipe)
      #expect(!r.timedOut, "`dasprov sandbox \(command[0])` (stdout to a pipe) did not return within 30 s")
      #expect(r.status == 0, "\(command[0]): \(r.output)")
    }

    let down = await sandbox(["down"], to: .file(log))
    #expect(!down.timedOut && down.status == 0, "`dasprov sandbox down`: \(down.output)")
    #expect(leftovers().isEmpty, "processes left after down: \(leftovers())")

    // From a stopped sandbox again, MariaDB started anew, output to a pipe: nothing the
    // script leaves running may hold the pipe open.
    let again = await sandbox(["up", "--hosts", "1"], to: .pipe)
    #expect(!again.timedOut, "`dasprov sandbox up` (stdout to a pipe) did not return within 30 s")
    #expect(again.status == 0, "\(again.output)")
    let status = await sandbox(["status"], to: .pipe)
    #expect(status.status == 0 && status.output.contains("MariaDB running"), "\(status.output)")

    let last = await sandbox(["down"], to: .pipe)
    #expect(!last.timedOut && last.status == 0, "`dasprov sandbox down` (pipe): \(last.output)")
    #expect(leftovers().isEmpty, "processes left after down: \(leftovers())")
    await stopAll()
  }
}
