import DasprovTestSupport
import Foundation
import Testing

/// `dasprov sandbox …` as a new user runs it: from a stopped sandbox, with MariaDB, output to a
/// file or a pipe, no terminal. Each command returns promptly while the daemons it started run
/// on (`make demo` once waited forever for a MariaDB that `sandbox up` had started).
///
/// A sandbox of its own (state and addresses), so it runs beside the cluster suite; another run
/// of the suite on this machine sets DASPROV_TEST_LIFECYCLE_STATE and DASPROV_TEST_LIFECYCLE_NET.
@Suite(.serialized) struct SandboxLifecycle {
  let binary: String
  let state: String
  let net: String

  init() throws {
    let env = ProcessInfo.processInfo.environment
    guard let binary = env["DASPROV_BIN"] else { throw Sandbox.SandboxMissing() }
    self.binary = binary
    state = env["DASPROV_TEST_LIFECYCLE_STATE"] ?? "/var/tmp/dasprov-test-lifecycle"
    net = env["DASPROV_TEST_LIFECYCLE_NET"] ?? "127.0.3"
  }

  /// Stops this suite's sandbox with the script itself (never through the code under test).
  @Sendable func stopAll() async {
    _ = try? await Command.run(
      "/bin/bash", [Sandbox.projectRoot + "/sandbox/sandbox.sh", "down", "--state", state], stdout: .discard, stderr: .discard,
      timeout: .seconds(120))
  }

  enum Destination {
    /// Standard output appended to this file (as `>>file`).
    case file(String)
    /// Standard output and error read from pipes to their end (as `2>&1 | cat`): the end only
    /// comes when no process holds a pipe's write side any more.
    case pipe
  }

  struct Outcome {
    var status: Int32?
    var output: String
    var timedOut: Bool
  }

  /// Runs `dasprov sandbox COMMAND` with stdin on /dev/null, the way a script or CI runs it. A
  /// command that outlives 30 s is a failure the test reports, never a hang of the test run:
  /// `stopAll` ends whatever it left behind (whatever holds its output open), then the command
  /// itself is killed. Standard error is read to its end in both cases.
  func sandbox(_ command: [String], to destination: Destination) async -> Outcome {
    let args = ["sandbox", "--project", Sandbox.projectRoot] + command + ["--state", state, "--net", net]
    do {
      switch destination {
      case .file(let path):
        let r = try await Command.run(
          binary, args, stdout: .file(path), stderr: .captureUntilClosed, timeout: .seconds(30), onTimeout: stopAll)
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return Outcome(status: r.status, output: text + r.stderrText, timedOut: false)
      case .pipe:
        let r = try await Command.run(
          binary, args, stdout: .captureUntilClosed, stderr: .captureUntilClosed, timeout: .seconds(30), onTimeout: stopAll)
        return Outcome(status: r.status, output: r.stdoutText + r.stderrText, timedOut: false)
      }
    } catch let error as Command.TimedOut {
      return Outcome(status: nil, output: "\(error)", timedOut: true)
    } catch {
      return Outcome(status: nil, output: "\(error)", timedOut: false)
    }
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
