import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

/// Commands over one reused session: output separation, status and signal, stdin, timeouts,
/// streaming, scripts, become.
@Suite struct ExecTests {
  static let session: SSHSession = try! SSHSession.connect(SSHD.shared.options())

  @Test func stdoutStderrAndStatusAreSeparate() throws {
    let r = try Self.session.exec(RemoteCommand("sh", "-c", "echo out; echo err >&2; echo more; exit 3"))
    #expect(r.status == 3)
    #expect(r.signal == nil)
    #expect(r.stdoutText == "out\nmore\n")
    #expect(r.stderrText == "err\n")
    #expect(!r.succeeded)
    let error = try #require(throws: SSHError.self) { try r.checked(host: "h", command: "x") }
    #expect(error.kind == .commandFailed(status: 3, signal: nil))
    #expect(error.message.hasSuffix("\nerr"))
  }

  @Test func signalIsReported() throws {
    let r = try Self.session.exec(RemoteCommand("sh", "-c", "kill -TERM $$"))
    #expect(r.signal == "TERM")
    #expect(r.status == -1)
    #expect(!r.succeeded)
  }

  @Test func argumentsArriveLiterally() throws {
    let tricky = ["a b", "$(touch /tmp/pwned-dasprov)", "`id`", "it's", "\"q\"", "ünï ✓", "*", "", "\\n"]
    let r = try Self.session.exec(RemoteCommand(["printf", "%s\\n"] + tricky))
    #expect(r.stdoutText == tricky.map { $0 + "\n" }.joined())
    #expect(!FileManager.default.fileExists(atPath: "/tmp/pwned-dasprov"))
  }

  @Test func largeStdinAndStdoutAtOnce() throws {
    // 6 MB through `cat` both ways: stdin must be written while stdout is read, or both windows
    // fill and the command never ends.
    var bytes = [UInt8](repeating: 0, count: 6_000_000)
    for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ i >> 8) }
    let r = try Self.session.exec(RemoteCommand("cat"), stdin: .data(Data(bytes)), timeout: .seconds(30))
    #expect(r.status == 0)
    #expect(r.stdout == Data(bytes))
  }

  @Test func hangingCommandIsStoppedByItsTimeout() throws {
    let marker = "60.\(Int.random(in: 100_000...999_999))"
    let start = Date()
    let error = try #require(throws: SSHError.self) {
      try Self.session.exec(RemoteCommand("sleep", marker), timeout: .seconds(1))
    }
    let elapsed = Date().timeIntervalSince(start)
    #expect(error.kind == .timeout)
    #expect(error.message.contains("sleep \(marker)"))
    #expect(elapsed >= 0.9 && elapsed < 5, "took \(elapsed) s")
    // The session is still usable, and the command was signalled, not left running.
    #expect(try Self.session.exec(RemoteCommand("true")).succeeded)
    var stillRunning = true
    for _ in 0..<50 where stillRunning {
      stillRunning = Self.processExists(withArgument: marker)
      if stillRunning { usleep(50_000) }
    }
    #expect(!stillRunning, "sleep \(marker) survived its timeout")
  }

  static func processExists(withArgument arg: String) -> Bool {
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
      guard let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
      if cmdline.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == arg }) { return true }
    }
    return false
  }

  @Test func largeOutputIsStreamedNotBuffered() throws {
    var total = 0
    var chunks = 0
    let r = try Self.session.exec(
      RemoteCommand("head", "-c", "50000000", "/dev/zero"), stdin: .none, timeout: .seconds(60), become: nil,
      output: .stream { stream, data in
        if stream == .stdout { total += data.count; chunks += 1 }
      })
    #expect(r.status == 0)
    #expect(total == 50_000_000)
    #expect(chunks > 10)
    #expect(r.stdout.isEmpty)
  }

  @Test func bufferedOutputIsBounded() throws {
    let r = try Self.session.exec(
      RemoteCommand("sh", "-c", "head -c 100000 /dev/zero; i=0; while [ $i -lt 3000 ]; do echo line$i >&2; i=$((i+1)); done"),
      stdin: .none, timeout: .seconds(30), become: nil, output: .buffer(limit: 1000))
    #expect(r.stdout.count == 1000)
    #expect(r.stdoutTruncated)
    #expect(r.stderr.count == 1000)
    #expect(r.stderrTruncated)
    #expect(r.stderrTail(lines: 1) == "line2999")
  }

  @Test func scriptOnStdin() throws {
    let script = [
      "x=" + "it's $(not) run".shellQuoted,
      #"printf '%s\n' "$x""#,
      RemoteCommand("sh", "-c", "echo $0", "a b").shellLine,
      "exit 4",
    ].joined(separator: "\n")
    let r = try Self.session.runScript(script)
    #expect(r.stdoutText == "it's $(not) run\na b\n")
    #expect(r.status == 4)
  }

  @Test func scriptWithStdinAfterIt() throws {
    let r = try Self.session.runScript(
      "read -r first; echo \"got $first\"; wc -c", stdinAfterScript: .data(Data("hello\n12345".utf8)))
    #expect(r.stdoutText.replacingOccurrences(of: " ", with: "") == "gothello\n5\n")
  }

  @Test func becomeRunsAsRootThroughSudo() throws {
    #expect(try Self.session.exec(RemoteCommand("id", "-u"), become: true).stdoutText == "0\n")
    #expect(try Self.session.runScript("id -u; echo \"$0\"", become: true).stdoutText == "0\nsh\n")
    #expect(try Self.session.exec(RemoteCommand("id", "-u")).stdoutText == "\(TestWorld.shared.uid)\n")
  }
}
