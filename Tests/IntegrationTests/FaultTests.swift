import Foundation
import Testing

/// Faults on the hosts and on the controller, each on the sandbox and each leaving it reset or
/// converged: dasprov killed while it writes, an sshd killed mid-run, a full disk. (A failing
/// health gate, a changed host key and an sshd down before the run are in ClusterTests.)
extension Cluster {
  // MARK: - Helpers

  /// dasprov started in the background, to be killed or watched; its output goes to `log`.
  func launchDasprov(_ args: [String], log: String = "/dev/null") throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: sandbox.binary)
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: Sandbox.projectRoot)
    p.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 }
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    let out = FileHandle(forWritingAtPath: log)!
    p.standardOutput = out
    p.standardError = out
    try p.run()
    return p
  }

  /// Waits for `p` to end, at most `seconds`; kills it when it does not.
  func finish(_ p: Process, within seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    return Date() < deadline
  }

  /// The PID of a host's sshd (the listener), which `sandbox.sh up` recorded.
  func listenerPID(_ host: String) throws -> Int32 {
    let file = "\(sandbox.state)/run/host\(sandbox.host(host).index).pid"
    return try #require(Int32(String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
  }

  /// Runs `script` with `sh` inside a host's mount namespace (where its tmpfs mounts are seen).
  func inHost(_ host: String, _ script: String) throws -> Sandbox.Result {
    try sandbox.run("/usr/bin/nsenter", ["-t", String(try listenerPID(host)), "-m", "/bin/sh", "-c", script])
  }

  /// Brings every stopped sshd of the sandbox up again.
  func sandboxUp() throws {
    let net = sandbox.host("host1").address.split(separator: ".").prefix(3).joined(separator: ".")
    let r = try sandbox.run("/bin/bash", [Sandbox.projectRoot + "/sandbox/sandbox.sh", "up", "--state", sandbox.state, "--net", net])
    #expect(r.status == 0, "\(r.all)")
  }

  /// Each host's files under `dir`, recursively: relative path → bytes (nil for directories).
  func tree(_ host: String, _ dir: String) -> [String: [UInt8]?] {
    let root = sandbox.local(host, dir)
    var out: [String: [UInt8]?] = [:]
    for case let path as String in FileManager.default.enumerator(atPath: root) ?? FileManager.DirectoryEnumerator() {
      out[path] = FileManager.default.contents(atPath: root + "/" + path).map(Array.init)
    }
    return out
  }

  // MARK: - sshd killed mid-run

  /// A node's sshd (listener and session) killed while the roll is under way: the node fails,
  /// the other nodes keep the configuration they got, and no node of its role (receivers) or of
  /// a later role (presenters) is restarted; exit 3 and a summary that names the node.
  @Test func anSshdKilledMidRollFailsItsHostAndItsRoleIsNotRestarted() throws {
    try sandbox.reset()
    #expect(try sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    defer {
      try? sandboxUp()
      try? sandbox.reset()
    }
    let inventory = try sandbox.inventoryVariant("sshd-kill.ini") { $0 + "cep_persistence=false\n" }
    let log = "\(sandbox.state)/sshd-kill.log"
    let began = Date()
    let p = try launchDasprov(["apply", inventory], log: log)
    // The roll has begun once the first analyzer restarts; then host6's sshd goes, sessions too.
    let deadline = Date().addingTimeInterval(60)
    while startTimes("host1").filter({ $0.0 >= began }).isEmpty && Date() < deadline { usleep(20_000) }
    let namespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(try listenerPID("host6"))/ns/mnt")
    var killed: [Int32] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(entry), (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/ns/mnt")) == namespace,
        (try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8))?.hasPrefix("sshd") == true
      else { continue }
      kill(pid, SIGKILL)
      killed.append(pid)
    }
    #expect(killed.count >= 2, "host6's listener and its session: \(killed)")
    #expect(finish(p, within: 120), "dasprov did not end")
    let out = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    let r = Sandbox.Result(status: p.terminationStatus, stdout: out, stderr: "")
    #expect(r.status == 3, "\(out)")
    #expect((r.recap("host6")?["failed"] ?? 0) + (r.recap("host6")?["unreachable"] ?? 0) == 1, "\(out)")
    #expect(out.contains("halted") && out.contains("host6"), "\(out)")
    for host in allHosts {
      #expect(try sandbox.xpath(host, "\(das)/repository/conf/event-processor.xml", "string(/eventProcessorConfiguration/mode[@name='HA']/persistence/@enable)") == "false", "\(host) kept the old configuration")
    }
    for host in ["host1", "host2", "host3", "host4"] { #expect(startTimes(host).filter { $0.0 >= began }.count == 1, "\(host) restarted \(startTimes(host).filter { $0.0 >= began }.count) times") }
    for host in ["host5", "host7", "host8"] {
      #expect(startTimes(host).filter { $0.0 >= began }.isEmpty, "\(host) restarted though host6 (receivers) was gone:\n\(out)")
    }
  }
}
