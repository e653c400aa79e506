import DasprovCore
import DasprovTestSupport
import Foundation
import Testing

/// The sandbox the test command brought up: real sshd hosts, each with its own /opt, /root, /etc.
///
/// Files are checked through the host's own directories on this machine, an independent path
/// that does not go through dasprov's SSH transport.
struct Sandbox {
  struct Host {
    var index: Int
    var name: String
    var address: String
    var port: Int
    var osID: String
    var osFamily: String
    var root: String
  }

  let state: String
  let hosts: [Host]
  let binary: String
  let dasPack: String?

  static func current() throws -> Sandbox {
    let env = ProcessInfo.processInfo.environment
    guard let state = env["DASPROV_TEST_SANDBOX"], let binary = env["DASPROV_BIN"] else {
      throw SandboxMissing()
    }
    let table = try String(contentsOfFile: state + "/hosts.tsv", encoding: .utf8)
    var hosts: [Host] = []
    for line in table.split(separator: "\n") where !line.hasPrefix("#") {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      guard f.count >= 7, let i = Int(f[0]), let port = Int(f[3]) else { continue }
      hosts.append(Host(index: i, name: f[1], address: f[2], port: port, osID: f[4], osFamily: f[5], root: f[6]))
    }
    return Sandbox(state: state, hosts: hosts, binary: binary, dasPack: env["DASPROV_DAS_PACK"])
  }

  struct SandboxMissing: Error, CustomStringConvertible {
    var description: String { "integration tests need the sandbox: run them with `make test` (scripts/test.sh)" }
  }

  var inventory: String { state + "/inventory.ini" }
  /// The project directory: the package root.
  static let projectRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  func host(_ name: String) -> Host { hosts.first { $0.name == name }! }

  /// The path on this machine of `path` on host `name` (for /opt, /root, /etc, /var/lib/dasprov).
  func local(_ name: String, _ path: String) -> String {
    // /var/lib/dasprov is bind-mounted from the host's var-lib-dasprov directory.
    if path.hasPrefix("/var/lib/dasprov") { return host(name).root + "/var-lib-dasprov" + path.dropFirst(16) }
    return host(name).root + path
  }

  func read(_ name: String, _ path: String) -> String? { try? String(contentsOfFile: local(name, path), encoding: .utf8) }

  func bytes(_ name: String, _ path: String) -> [UInt8]? { FileManager.default.contents(atPath: local(name, path)).map(Array.init) }

  /// Re-seeds every host's DAS home: from the pristine DAS 3.1.0 files when `pristine`.
  func reset(pristine: Bool = false) async throws {
    var args = ["reset", "--state", state]
    if pristine, let dasPack { args += ["--das-pack", dasPack] }
    let r = try await run("/bin/bash", [Self.projectRoot + "/sandbox/sandbox.sh"] + args)
    guard r.status == 0 else { throw CommandFailed(output: r.stdout + r.stderr) }
  }

  struct CommandFailed: Error, CustomStringConvertible {
    var output: String
    var description: String { output }
  }

  /// Runs dasprov from the project directory.
  func dasprov(_ args: [String], environment: [String: String] = [:]) async throws -> Result {
    try await run(binary, args, cwd: Self.projectRoot, environment: environment)
  }

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
    var all: String { stdout + stderr }

    /// The recap counts of a host: ok, changed, failed, skipped, unreachable, restarted.
    func recap(_ host: String) -> [String: Int]? {
      for line in stdout.split(separator: "\n") where line.hasPrefix("\(host) : ") {
        var out: [String: Int] = [:]
        for pair in line.dropFirst(host.count + 3).split(separator: " ") {
          let kv = pair.split(separator: "=")
          if kv.count == 2, let n = Int(kv[1]) { out[String(kv[0])] = n }
        }
        return out
      }
      return nil
    }
  }

  /// Runs a command with NO_COLOR=1 (and `environment`) and stdin from /dev/null (or `stdin`);
  /// a command still running after `timeout` is killed and this throws `Command.TimedOut`.
  func run(
    _ executable: String, _ args: [String], cwd: String? = nil, environment: [String: String] = [:], stdin: String? = nil,
    timeout: Duration = Command.defaultTimeout
  ) async throws -> Result {
    var env = ["NO_COLOR": "1"]
    for (k, v) in environment { env[k] = v }
    let r = try await Command.run(
      executable, args, input: stdin.map { .text($0) } ?? .none, environment: env, workingDirectory: cwd, timeout: timeout)
    return Result(status: r.status, stdout: r.stdoutText, stderr: r.stderrText)
  }

  /// Evaluates an XPath on a host's file with xmllint (not with dasprov's own XML code).
  func xpath(_ name: String, _ path: String, _ expr: String) async throws -> String {
    let r = try await run("/usr/bin/xmllint", ["--xpath", expr, local(name, path)])
    guard r.status == 0 else { throw CommandFailed(output: "xmllint --xpath \(expr) \(path) on \(name): \(r.stderr)") }
    return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// The fake server's start records on a host (one line per start).
  func starts(_ name: String) -> [String] {
    (read(name, "/opt/wso2das-3.1.0/repository/logs/starts.log") ?? "").split(separator: "\n").map(String.init)
  }

  /// Writes an inventory file next to the sandbox's, with `edit` applied to its text.
  func inventoryVariant(_ name: String, _ edit: (String) -> String) throws -> String {
    let text = try String(contentsOfFile: inventory, encoding: .utf8)
    let path = state + "/" + name
    try edit(text).write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }
}

/// Runs `body`, then `cleanup` however `body` ended (returned, threw, or a `#require` failed):
/// the clean-up a `defer` would do, for clean-up that awaits (a `defer` block cannot).
func withCleanup<T>(_ body: () async throws -> T, cleanup: () async -> Void) async throws -> T {
  let value: T
  do {
    value = try await body()
  } catch {
    await cleanup()
    throw error
  }
  await cleanup()
  return value
}

/// A value filled by another thread.
final class Locked<T>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: T
  init(_ v: T) { stored = v }
  func set(_ v: T) { lock.withLock { stored = v } }
  var value: T { lock.withLock { stored } }
}
