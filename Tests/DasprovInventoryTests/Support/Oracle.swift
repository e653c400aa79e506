import DasprovTestSupport
import Foundation

/// Runs the real `ansible-inventory` (the oracle) from a throwaway virtualenv.
///
/// The venv lives at `/var/tmp/dasprov-ansible-venv` (or `$DASPROV_ANSIBLE_VENV`) and is
/// created with `pip install ansible-core` on first use. Every call runs with an empty working
/// directory, so no stray `group_vars/` next to the test process is picked up.
enum Oracle {
  static let venv =
    ProcessInfo.processInfo.environment["DASPROV_ANSIBLE_VENV"] ?? "/var/tmp/dasprov-ansible-venv"

  /// The path of `ansible-inventory`, or why it could not be set up. Computed once per run.
  static let ready: Task<Result<String, OracleUnavailable>, Never> = Task { await prepare() }

  struct OracleUnavailable: Error, CustomStringConvertible {
    var description: String
  }

  private static func prepare() async -> Result<String, OracleUnavailable> {
    let tool = venv + "/bin/ansible-inventory"
    if FileManager.default.isExecutableFile(atPath: tool) { return .success(tool) }
    // Two test processes may race to create it; a lock directory keeps pip from running twice.
    let lock = venv + ".lock"
    for _ in 0..<600 {
      if (try? FileManager.default.createDirectory(atPath: lock, withIntermediateDirectories: false))
        != nil
      {
        break
      }
      if FileManager.default.isExecutableFile(atPath: tool) { return .success(tool) }
      try? await Task.sleep(for: .seconds(1))
    }
    defer { try? FileManager.default.removeItem(atPath: lock) }
    if FileManager.default.isExecutableFile(atPath: tool) { return .success(tool) }
    let steps = [
      ["python3", "-m", "venv", venv],
      [venv + "/bin/pip", "install", "--quiet", "ansible-core==2.19.14"],
    ]
    for step in steps {
      let r = await run(["/usr/bin/env"] + step, timeout: 900)
      guard r.status == 0 else {
        return .failure(
          OracleUnavailable(
            description: """
              ORACLE UNAVAILABLE: could not set up ansible-core in \(venv) \
              (`\(step.joined(separator: " "))` exited \(r.status)). Is PyPI reachable? \
              The oracle comparison did NOT run.
              \(r.stderr.suffix(2000))
              """))
      }
    }
    guard FileManager.default.isExecutableFile(atPath: tool) else {
      return .failure(OracleUnavailable(description: "ORACLE UNAVAILABLE: \(tool) missing after pip install"))
    }
    return .success(tool)
  }

  struct Output: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// Runs `ansible-inventory ARGS` in an empty directory.
  static func inventory(_ tool: String, _ args: [String]) async -> Output {
    await run([tool] + args, timeout: 120)
  }

  /// Runs `ansible ARGS` (for `--list-hosts`) the same way.
  static func ansible(_ tool: String, _ args: [String]) async -> Output {
    let ansible = (tool as NSString).deletingLastPathComponent + "/ansible"
    return await inventory(ansible, args)
  }

  static func run(_ argv: [String], timeout seconds: Int) async -> Output {
    let scratch = FileManager.default.temporaryDirectory
      .appendingPathComponent("dasprov-oracle-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    // An empty config: no ansible.cfg of the machine or user changes what the oracle says.
    let config = scratch.appendingPathComponent("ansible.cfg")
    _ = FileManager.default.createFile(atPath: config.path, contents: Data("[defaults]\n".utf8))
    let environment = [
      "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": scratch.path,
      "ANSIBLE_HOME": scratch.appendingPathComponent("home").path, "ANSIBLE_CONFIG": config.path,
    ]
    do {
      let r = try await Command.run(
        argv[0], Array(argv.dropFirst()), environment: environment, workingDirectory: scratch.path,
        timeout: .seconds(seconds))
      return Output(status: r.status, stdout: r.stdoutText, stderr: r.stderrText)
    } catch {
      return Output(status: -1, stdout: "", stderr: "cannot run \(argv[0]): \(error)")
    }
  }
}

/// Runs async jobs with at most `width` at a time (the machine has two cores).
func limitedConcurrentMap<T: Sendable, R: Sendable>(
  _ items: [T], width: Int, _ body: @escaping @Sendable (T) async -> R
) async -> [R] {
  await withTaskGroup(of: (Int, R).self) { group in
    var results = [R?](repeating: nil, count: items.count)
    var next = 0
    for _ in 0..<min(width, items.count) {
      let i = next
      group.addTask { (i, await body(items[i])) }
      next += 1
    }
    while let (i, r) = await group.next() {
      results[i] = r
      if next < items.count {
        let j = next
        group.addTask { (j, await body(items[j])) }
        next += 1
      }
    }
    return results.map { $0! }
  }
}
