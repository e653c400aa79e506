import DasprovSSH
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a local program and returns its exit status and output. For test set-up only.
@discardableResult
func runLocal(_ argv: [String], environment: [String: String]? = nil, stdin: String? = nil) -> (status: Int32, out: String, err: String) {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: argv[0])
  p.arguments = Array(argv.dropFirst())
  if let environment { p.environment = environment }
  let out = Pipe(), err = Pipe(), input = Pipe()
  p.standardOutput = out
  p.standardError = err
  p.standardInput = stdin == nil ? FileHandle.nullDevice : input
  do { try p.run() } catch { return (-1, "", "\(error)") }
  if let stdin {
    input.fileHandleForWriting.write(Data(stdin.utf8))
    try? input.fileHandleForWriting.close()
  }
  let o = out.fileHandleForReading.readDataToEndOfFile()
  let e = err.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
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
    atexit { SSHD.stopAll() }
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
  private let process: Process

  private static let lock = NSLock()
  nonisolated(unsafe) private static var nextAddress = 1
  nonisolated(unsafe) private static var running: [Int32: Process] = [:]

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
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/sbin/sshd")
      p.arguments = ["-D", "-f", dir + "/sshd_config", "-E", dir + "/sshd.log"]
      p.standardInput = FileHandle.nullDevice
      try p.run()
      if Self.waitListening(address: address, port: 2222, process: p) {
        self.dir = dir
        self.address = address
        self.pid = p.processIdentifier
        self.hostKeys = keys
        self.process = p
        Self.lock.withLock { Self.running[p.processIdentifier] = p }
        return
      }
      lastLog = (try? String(contentsOfFile: dir + "/sshd.log", encoding: .utf8)) ?? ""
      if p.isRunning { Glibc.kill(p.processIdentifier, SIGKILL) }
      p.waitUntilExit()
    }
    throw SSHError(.internalError, host: "sshd", "could not start a test sshd: \(lastLog)")
  }

  deinit { stop() }

  private static func waitListening(address: String, port: Int, process: Process) -> Bool {
    for _ in 0..<200 {
      guard process.isRunning else { return false }
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      var sa = sockaddr_in()
      sa.sin_family = sa_family_t(AF_INET)
      sa.sin_port = in_port_t(UInt16(port).bigEndian)
      inet_pton(AF_INET, address, &sa.sin_addr)
      let rc = withUnsafePointer(to: &sa) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
      }
      close(fd)
      if rc == 0 { return true }
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
    guard process.isRunning || !Self.descendants(of: pid).isEmpty else { return }
    kill(signal: SIGKILL)
    process.waitUntilExit()
    Self.lock.withLock { Self.running[pid] = nil }
  }

  static func stopAll() {
    let all = lock.withLock { running }
    for (pid, _) in all {
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
