import DasprovTestSupport
import Foundation
import Testing

/// The tests' way of starting programs does what the other suites rely on.
@Suite struct CommandTests {
  @Test func stdoutAndStderrAreReadTogetherSoNeitherPipeFillsUp() async throws {
    // 1 MiB on each, stderr first: read one after the other, the child would block.
    let r = try await Command.run("/bin/sh", ["-c", "head -c 1048576 /dev/zero >&2; head -c 1048576 /dev/zero; exit 3"])
    #expect(r.status == 3 && r.signal == nil)
    #expect(r.stdout.count == 1 << 20 && r.stderr.count == 1 << 20)
  }

  @Test func inputIsTheGivenBytesOrDevNull() async throws {
    let echoed = try await Command.run("/bin/cat", input: .text("a\u{0}b\nü"))
    #expect(echoed.stdoutText == "a\u{0}b\nü")
    let none = try await Command.run("/bin/sh", ["-c", "readlink /proc/self/fd/0; cat"])
    #expect(none.stdoutText == "/dev/null\n")
  }

  @Test func theChildInheritsNoOtherDescriptor() async throws {
    // A descriptor of the test process without close-on-exec, as Foundation's Pipe makes them.
    let fd = open("/dev/null", O_RDONLY)
    defer { close(fd) }
    try #require(fd > 2)
    let r = try await Command.run("/bin/sh", ["-c", "ls /proc/$$/fd"])
    #expect(r.stdoutText.split(separator: "\n") == ["0", "1", "2"], "\(r.stdoutText)")
  }

  @Test func environmentAndWorkingDirectory() async throws {
    let dir = FileManager.default.temporaryDirectory.resolvingSymlinksInPath().path
    let added = try await Command.run(
      "/bin/sh", ["-c", "echo \"$DASPROV_T_ADDED $PWD\"; [ -n \"$PATH\" ]"], environment: ["DASPROV_T_ADDED": "x y"],
      workingDirectory: dir)
    #expect(added.status == 0 && added.stdoutText == "x y \(dir)\n")
    let only = try await Command.run("/usr/bin/env", environment: ["A": "1"], inheritEnvironment: false)
    #expect(only.stdoutText == "A=1\n")
  }

  // No test here measures the wall clock around a call: a test's own code may wait a minute
  // for a thread of the cooperative pool. A child that would run for an hour is gone instead.

  @Test func aCommandPastItsDeadlineIsKilledAndReported() async throws {
    let pidFile = Self.scratchFile()
    defer { try? FileManager.default.removeItem(atPath: pidFile) }
    await #expect(throws: Command.TimedOut.self) {
      try await Command.run("/bin/sh", ["-c", "echo $$ > '\(pidFile)'; exec sleep 3600"], timeout: .milliseconds(300))
    }
    let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
    #expect(kill(pid, 0) == -1 && errno == ESRCH, "the timed-out child still runs")
    // In the background: the deadline counts from the start; the child is gone afterwards.
    let running = try await Command.start("/bin/sleep", ["3600"], timeout: .milliseconds(300))
    let background = running.pid
    await #expect(throws: Command.TimedOut.self) { try await running.wait() }
    #expect(kill(background, 0) == -1 && errno == ESRCH, "the timed-out child still runs")
  }

  static func scratchFile() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("dasprov-cmd-\(UUID().uuidString)").path
  }

  @Test func onTimeoutRunsAtTheDeadlineAndALateEndIsStillLate() async throws {
    let marker = Self.scratchFile()
    defer { try? FileManager.default.removeItem(atPath: marker) }
    // The command waits for the file that onTimeout creates: it ends, but only at the deadline.
    await #expect(throws: Command.TimedOut.self) {
      try await Command.run(
        "/bin/sh", ["-c", "while [ ! -e '\(marker)' ]; do sleep 0.05; done"], timeout: .milliseconds(300),
        onTimeout: { _ = FileManager.default.createFile(atPath: marker, contents: nil) })
    }
    #expect(FileManager.default.fileExists(atPath: marker))
  }

  @Test func aBackgroundCommandCanBeSignalledAndWaitedFor() async throws {
    let running = try await Command.start("/bin/sleep", ["3600"])
    running.signal(SIGKILL)
    let r = try await running.wait()
    #expect(r.status == 128 + SIGKILL && r.signal == SIGKILL)

    let quick = try await Command.start("/bin/sh", ["-c", "exit 4"])
    #expect(try await quick.wait(upTo: .seconds(600))?.status == 4)
    let slow = try await Command.start("/bin/sleep", ["3600"])
    let pid = slow.pid
    #expect(try await slow.wait(upTo: .milliseconds(200)) == nil)
    #expect(kill(pid, 0) == -1 && errno == ESRCH, "a child that outlived wait(upTo:) still runs")
  }

  @Test func outputToAFileIsAppended() async throws {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("dasprov-cmd-\(UUID().uuidString).log").path
    defer { try? FileManager.default.removeItem(atPath: log) }
    for word in ["one", "two"] {
      let r = try await Command.run("/bin/sh", ["-c", "echo \(word); echo \(word)-err >&2"], stdout: .file(log), stderr: .file(log))
      #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty)
    }
    #expect(try String(contentsOfFile: log, encoding: .utf8) == "one\none-err\ntwo\ntwo-err\n")
  }

  @Test func aProgramThatCannotStartIsAnError() async throws {
    await #expect(throws: (any Error).self) { try await Command.run("/nonexistent/dasprov-test-program") }
    await #expect(throws: (any Error).self) { try await Command.start("/nonexistent/dasprov-test-program") }
  }

  @Test func synchronousCodeWaitsForACommandOnlyOnAThreadOfItsOwn() async throws {
    let out = try await OwnThread.run {
      try OwnThread.wait { try await Command.run("/bin/echo", ["hi"]).stdoutText }
    }
    #expect(out == "hi\n")
    #expect(throws: OwnThread.NotOnOwnThread.self) { try OwnThread.wait { 1 } }
  }
}

/// `.captureUntilClosed` reads as `| cat` does: to the pipe's end, whoever holds it.
@Suite struct CaptureUntilClosedTests {
  @Test func aProcessLeftHoldingThePipeHoldsTheRunUpToItsDeadline() async throws {
    let pidFile = CommandTests.scratchFile()
    defer {
      // Neither the end of the command nor its deadline ends what it left behind.
      for pid in ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").split(separator: "\n").compactMap({ Int32($0) }) {
        kill(pid, SIGKILL)
      }
      try? FileManager.default.removeItem(atPath: pidFile)
    }
    // A process the command leaves behind holds its standard output for an hour.
    let leave = "sleep 3600 & echo $! >> '\(pidFile)'; echo now"
    // `.capture` ends with the command.
    let early = try await Command.run("/bin/sh", ["-c", leave])
    #expect(early.stdoutText == "now\n")
    // `.captureUntilClosed` waits for that process's end, and reads what it wrote.
    let whole = try await Command.run("/bin/sh", ["-c", "(sleep 1; echo late) & echo now"], stdout: .captureUntilClosed)
    #expect(whole.stdoutText == "now\nlate\n" && whole.seconds >= 0.9)
    // …up to the deadline.
    await #expect(throws: Command.TimedOut.self) {
      try await Command.run(
        "/bin/sh", ["-c", leave], stdout: .captureUntilClosed, timeout: .milliseconds(500))
    }
  }

  @Test func aLargeOutputDoesNotFillThePipe() async throws {
    let r = try await Command.run(
      "/bin/sh", ["-c", "head -c 1048576 /dev/zero >&2; head -c 1048576 /dev/zero"], stdout: .captureUntilClosed,
      stderr: .captureUntilClosed)
    #expect(r.status == 0 && r.stdout.count == 1 << 20 && r.stderr.count == 1 << 20)
  }
}
