import DasprovSSH
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Starts a local program with posix_spawn (Foundation's `Process` deadlocks on Linux when many
/// are started and awaited from parallel tests). stdin/stdout/stderr are file paths or /dev/null.
func spawnLocal(_ argv: [String], environment: [String: String]? = nil, stdin: String = "/dev/null",
                stdout: String = "/dev/null", stderr: String = "/dev/null") -> pid_t? {
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
  posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
  var cArgs = argv.map { strdup($0) } + [nil]
  var cEnv = env.map { strdup($0) } + [nil]
  defer { for p in cArgs + cEnv { free(p) } }
  // The calling thread (a Swift pool worker) blocks most signals, and a spawned program would
  // inherit that mask: reset it, or SIGTERM never reaches ssh-agent.
  var attr = posix_spawnattr_t()
  posix_spawnattr_init(&attr)
  defer { posix_spawnattr_destroy(&attr) }
  var empty = sigset_t(), all = sigset_t()
  sigemptyset(&empty)
  sigfillset(&all)
  posix_spawnattr_setsigmask(&attr, &empty)
  posix_spawnattr_setsigdefault(&attr, &all)
  posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
  var pid: pid_t = 0
  let rc = posix_spawn(&pid, argv[0], &actions, &attr, &cArgs, &cEnv)
  return rc == 0 ? pid : nil
}

/// Waits for `pid` and returns its exit status (or 128 + signal).
@discardableResult
func waitLocal(_ pid: pid_t) -> Int32 {
  var status: Int32 = 0
  while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
  return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// Runs a local program to completion and returns its exit status and output. Set-up only.
@discardableResult
func runLocal(_ argv: [String], environment: [String: String]? = nil, stdin: String? = nil) -> (status: Int32, out: String, err: String) {
  let dir = NSTemporaryDirectory() + "dasprov-run-\(UUID().uuidString)"
  try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  var input = "/dev/null"
  if let stdin {
    input = dir + "/in"
    _ = FileManager.default.createFile(atPath: input, contents: Data(stdin.utf8))
  }
  guard let pid = spawnLocal(argv, environment: environment, stdin: input, stdout: dir + "/out", stderr: dir + "/err") else {
    return (-1, "", "cannot start \(argv[0])")
  }
  let status = waitLocal(pid)
  let out = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
  let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
  return (status, out, err)
}

/// Everything the tests share, created once per test process: a scratch directory, the login
/// user `dasprov-sshtest` (password, passwordless sudo), and client keys of every type.
///
/// The user and `/etc/sudoers.d/dasprov-sshtest` stay after the run (creating them is idempotent);
/// remove them with `userdel -r dasprov-sshtest; rm /etc/sudoers.d/dasprov-sshtest`.
final class TestWorld: @unchecked Sendable {
  static let shared = TestWorld()

  static let user = "dasprov-sshtest"
  static let password = "dasprov-test-pw-7"
  static let passphrase = "correct horse battery"

  let root: String
  let keys: String
  /// A HOME with no `.ssh`, so no real key, config or known_hosts leaks into a test.
  let emptyHome: String
  let uid: UInt32
  let gid: UInt32

  private init() {
    root = "/tmp/dasprov-sshtests-\(getpid())"
    keys = root + "/keys"
    emptyHome = root + "/home"
    try? FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
    try? FileManager.default.createDirectory(atPath: emptyHome, withIntermediateDirectories: true)
    chmod(root, 0o755)
    try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
    chmod("/run/sshd", 0o755)
    if runLocal(["/usr/bin/id", Self.user]).status != 0 {
      runLocal(["/usr/sbin/useradd", "-m", "-s", "/bin/sh", Self.user])
    }
    runLocal(["/usr/sbin/chpasswd"], stdin: "\(Self.user):\(Self.password)\n")
    let sudoers = "/etc/sudoers.d/\(Self.user)"
    if !FileManager.default.fileExists(atPath: sudoers) {
      _ = FileManager.default.createFile(atPath: sudoers, contents: Data("\(Self.user) ALL=(ALL) NOPASSWD: ALL\n".utf8))
      chmod(sudoers, 0o440)
    }
    uid = UInt32(runLocal(["/usr/bin/id", "-u", Self.user]).out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    gid = UInt32(runLocal(["/usr/bin/id", "-g", Self.user]).out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    for (name, args) in [
      ("id_ed25519", ["-t", "ed25519", "-N", ""]), ("id_ecdsa", ["-t", "ecdsa", "-N", ""]),
      ("id_rsa", ["-t", "rsa", "-b", "2048", "-N", ""]), ("id_encrypted", ["-t", "ed25519", "-N", Self.passphrase]),
      ("id_agent", ["-t", "ed25519", "-N", ""]), ("id_unauthorized", ["-t", "ed25519", "-N", ""]),
    ] {
      runLocal(["/usr/bin/ssh-keygen", "-q", "-C", name, "-f", keys + "/" + name] + args)
    }
    let authorized = ["id_ed25519", "id_ecdsa", "id_rsa", "id_encrypted", "id_agent"]
      .compactMap { try? String(contentsOfFile: keys + "/" + $0 + ".pub", encoding: .utf8) }.joined()
    _ = FileManager.default.createFile(atPath: keys + "/authorized_keys", contents: Data(authorized.utf8))
    atexit {
      SSHD.stopAll()
      try? FileManager.default.removeItem(atPath: TestWorld.shared.root)
    }
  }

  func key(_ name: String) -> String { keys + "/" + name }

  private let lock = NSLock()
  private var counter = 0

  /// A fresh directory owned by the test user, for remote-side files.
  func remoteDir(_ label: String) -> String {
    let n = lock.withLock { counter += 1; return counter }
    let dir = root + "/remote-\(n)-\(label)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    chown(dir, uid, gid)
    chmod(dir, 0o755)
    return dir
  }

  /// A fresh local directory owned by root.
  func localDir(_ label: String) -> String {
    let n = lock.withLock { counter += 1; return counter }
    let dir = root + "/local-\(n)-\(label)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }
}

/// One real `sshd -D` on its own loopback address (127.0.6.N, port 2222), with its own host
/// keys, config, log and authorized_keys. Stopped by PID, never by name: other engineers run
/// sshd on other addresses of this machine.
final class SSHD: @unchecked Sendable {
  let dir: String
  let address: String
  let port = 2222
  let pid: Int32
  let hostKeys: [String]
  private var reaped = false

  private static let lock = NSLock()
  /// Starts at a PID-derived address so two test processes (another worktree's run) rarely
  /// collide; a collision is detected from the log and the next address is tried.
  nonisolated(unsafe) private static var nextAddress = Int(getpid()) % 200 + 1
  nonisolated(unsafe) private static var running: Set<Int32> = []

  /// `hostKeyTypes` in ssh-keygen names; `extraConfig` lines are appended to sshd_config.
  init(hostKeyTypes: [String] = ["ed25519"], extraConfig: String = "") throws {
    let world = TestWorld.shared
    var lastLog = ""
    for _ in 0..<20 {
      let n = Self.lock.withLock { () -> Int in
        defer { Self.nextAddress = Self.nextAddress % 200 + 1 }
        return Self.nextAddress
      }
      let address = "127.0.6.\(n)"
      let dir = world.root + "/sshd-\(n)-\(UInt32.random(in: 0...UInt32.max))"
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      var keys: [String] = []
      for type in hostKeyTypes {
        let path = dir + "/host_\(type)"
        runLocal(["/usr/bin/ssh-keygen", "-q", "-t", type, "-N", "", "-C", "", "-f", path])
        keys.append(path)
      }
      let config = """
        ListenAddress \(address):2222
        \(keys.map { "HostKey \($0)" }.joined(separator: "\n"))
        PidFile \(dir)/sshd.pid
        LogLevel VERBOSE
        UsePAM no
        StrictModes no
        AuthorizedKeysFile \(world.keys)/authorized_keys
        PubkeyAuthentication yes
        PasswordAuthentication yes
        KbdInteractiveAuthentication no
        PermitRootLogin no
        UseDNS no
        MaxStartups 200
        MaxSessions 20
        MaxAuthTries 20
        Subsystem sftp internal-sftp
        \(extraConfig)

        """
      try config.write(toFile: dir + "/sshd_config", atomically: true, encoding: .utf8)
      guard let pid = spawnLocal(["/usr/sbin/sshd", "-D", "-f", dir + "/sshd_config", "-E", dir + "/sshd.log"]) else {
        throw SSHError(.internalError, host: "sshd", "cannot start /usr/sbin/sshd")
      }
      if Self.waitListening(address: address, log: dir + "/sshd.log", pid: pid) {
        self.dir = dir
        self.address = address
        self.pid = pid
        self.hostKeys = keys
        Self.lock.withLock { _ = Self.running.insert(pid) }
        return
      }
      lastLog = (try? String(contentsOfFile: dir + "/sshd.log", encoding: .utf8)) ?? ""
      Glibc.kill(pid, SIGKILL)
      waitLocal(pid)
    }
    throw SSHError(.internalError, host: "sshd", "could not start a test sshd: \(lastLog)")
  }

  deinit { stop() }

  /// Ready when sshd's own log says it listens on `address` (a connect test could reach
  /// someone else's sshd on the same address); not ready when it exits or cannot bind.
  private static func waitListening(address: String, log: String, pid: pid_t) -> Bool {
    for _ in 0..<250 {
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid { return false }
      let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
      if text.contains("Server listening on \(address) port 2222") { return true }
      if text.contains("Cannot bind") || text.contains("Address already in use") { return false }
      usleep(20_000)
    }
    return false
  }

  /// The listener and every per-connection sshd it forked, by PID.
  func kill(signal: Int32 = SIGTERM, includeListener: Bool = true) {
    for child in Self.descendants(of: pid) { Glibc.kill(child, signal) }
    if includeListener { Glibc.kill(pid, signal) }
  }

  func stop() {
    guard !reaped else { return }
    reaped = true
    // Again until nothing is left: a session process may fork between listing and killing.
    for _ in 0..<10 {
      kill(signal: SIGKILL, includeListener: true)
      if Self.descendants(of: pid).isEmpty { break }
      usleep(20_000)
    }
    waitLocal(pid)
    Self.lock.withLock { _ = Self.running.remove(pid) }
  }

  static func stopAll() {
    let all = lock.withLock { running }
    for pid in all {
      for child in descendants(of: pid) { Glibc.kill(child, SIGKILL) }
      Glibc.kill(pid, SIGKILL)
    }
  }

  /// Children, grandchildren, ... of `pid`, from `/proc/*/stat`.
  static func descendants(of pid: Int32) -> [Int32] {
    var parent: [Int32: Int32] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let p = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { continue }
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      if fields.count > 1, let pp = Int32(fields[1]) { parent[p] = pp }
    }
    var result: [Int32] = []
    var frontier = [pid]
    while let p = frontier.popLast() {
      for (child, pp) in parent where pp == p {
        result.append(child)
        frontier.append(child)
      }
    }
    return result
  }

  /// known_hosts name for this server.
  var knownHostsName: String { "[\(address)]:\(port)" }

  /// A known_hosts line for host key `index`.
  func knownHostsLine(_ index: Int = 0) -> String {
    let pub = (try? String(contentsOfFile: hostKeys[index] + ".pub", encoding: .utf8)) ?? ""
    let parts = pub.split(separator: " ")
    return "\(knownHostsName) \(parts[0]) \(parts[1])\n"
  }

  /// The fingerprint `ssh-keygen -l` prints for host key `index`.
  func fingerprint(_ index: Int = 0) -> String {
    let out = runLocal(["/usr/bin/ssh-keygen", "-l", "-E", "sha256", "-f", hostKeys[index] + ".pub"]).out
    return String(out.split(separator: " ")[1])
  }

  /// A known_hosts file holding this server's keys (or `contents`).
  func knownHostsFile(_ contents: String? = nil) -> String {
    let path = TestWorld.shared.localDir("kh") + "/known_hosts"
    let text = contents ?? hostKeys.indices.map { knownHostsLine($0) }.joined()
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
  }

  /// Options for the test user with one key file, a known_hosts that trusts this server, and
  /// an environment with nothing else in it.
  func options(
    key: String? = "id_ed25519", knownHosts: String? = nil, policy: HostKeyPolicy = .strict,
    env: [String: String] = [:], become: Bool = false
  ) -> SSHOptions {
    var environment = ["HOME": TestWorld.shared.emptyHome, "USER": "root"]
    environment.merge(env) { $1 }
    return SSHOptions(
      host: address, name: "test-\(address)", port: port, user: TestWorld.user,
      privateKeyFiles: key.map { [TestWorld.shared.key($0)] } ?? [], knownHostsFile: knownHosts ?? knownHostsFile(),
      hostKeyPolicy: policy, connectTimeout: .seconds(10), become: become, useAgent: env["SSH_AUTH_SOCK"] != nil,
      sshConfigFile: "", environment: environment)
  }

  var log: String { (try? String(contentsOfFile: dir + "/sshd.log", encoding: .utf8)) ?? "" }

  /// One server for the tests that need nothing special, started on first use.
  static let shared: SSHD = try! SSHD(hostKeyTypes: ["ed25519", "ecdsa"])
}

/// Runs a blocking test body on a dedicated thread, so a long wait does not hold one of the two
/// cooperative threads that swift-testing runs the other tests on.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await SSHPool.run([0], forks: 1) { _ in Result { try body() } }[0].get()
}
