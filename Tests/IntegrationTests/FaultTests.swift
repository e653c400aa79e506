import DasprovTestSupport
import Foundation
import Testing

/// Faults on the hosts and on the controller, each on the sandbox and each leaving it reset or
/// converged: dasprov killed while it writes, an sshd killed mid-run, a full disk. (A failing
/// health gate, a changed host key and an sshd down before the run are in ClusterTests.)
extension Cluster {
  // MARK: - Helpers

  /// dasprov started in the background, to be killed or watched; its output goes to `log` (made
  /// anew), or nowhere. (Never `createFile(atPath: "/dev/null")`: Foundation writes a temp file
  /// and renames it over the path, which replaces the machine's null device with a regular file.)
  func launchDasprov(_ args: [String], log: String? = nil) async throws -> Command.Running {
    var out = Command.Destination.discard
    if let log {
      try? FileManager.default.removeItem(atPath: log)
      out = .file(log)
    }
    return try await Command.start(
      sandbox.binary, args, environment: ["NO_COLOR": "1"], workingDirectory: Sandbox.projectRoot, stdout: out, stderr: out)
  }

  /// Waits for `p` to end, at most `seconds`; kills it when it does not (and returns nil).
  func finish(_ p: Command.Running, within seconds: Double) async throws -> Command.Result? {
    try await p.wait(upTo: .seconds(seconds))
  }

  /// The PID of a host's sshd (the listener), which `sandbox.sh up` recorded.
  func listenerPID(_ host: String) throws -> Int32 {
    let file = "\(sandbox.state)/run/host\(sandbox.host(host).index).pid"
    return try #require(Int32(String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
  }

  /// Runs `script` with `sh` inside a host's mount namespace (where its tmpfs mounts are seen).
  func inHost(_ host: String, _ script: String) async throws -> Sandbox.Result {
    try await sandbox.run("/usr/bin/nsenter", ["-t", String(try listenerPID(host)), "-m", "/bin/sh", "-c", script])
  }

  /// Brings every stopped sshd of the sandbox up again.
  func sandboxUp() async throws {
    let net = sandbox.host("host1").address.split(separator: ".").prefix(3).joined(separator: ".")
    let r = try await sandbox.run("/bin/bash", [Sandbox.projectRoot + "/sandbox/sandbox.sh", "up", "--state", sandbox.state, "--net", net])
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

  // MARK: - kill -9 during the apply

  /// dasprov killed at random moments while it writes: every file it manages is, on every host,
  /// the whole old or the whole new version, never a mix and never missing. Each trial flips the
  /// database password, so both datasource files of every node change; a third of the trials
  /// run one host at a time (`-f 1`), which stretches the writes over more of the run. Temp
  /// files (`.NAME.dasprov-tmp-*`) may stay behind, under no managed name; backups must be a
  /// whole version too. Finally a re-run converges and the next one changes nothing.
  /// `DASPROV_KILL_TRIALS` sets the number of kills (default 100, as the issue asks).
  @Test func killingDasprovWhileItWritesLeavesEveryFileWholeOldOrNew() async throws {
    let trials = Int(ProcessInfo.processInfo.environment["DASPROV_KILL_TRIALS"] ?? "") ?? 100
    try await sandbox.reset()
    let passwords = ["Kill<&>Old-Pw1", "Kill<&>New-Pw2"]
    let inventories = try passwords.enumerated().map { i, pw in
      try sandbox.inventoryVariant("kill-\(i).ini") { $0.replacingOccurrences(of: "db_password=Das-Sandbox-Pw1", with: "db_password=\(pw)") }
    }
    let first = try await sandbox.dasprov(["apply", inventories[0]])
    try #require(first.status == 0, "\(first.all)")

    let conf = "\(das)/repository/conf"
    let managed = ["datasources/master-datasources.xml", "datasources/analytics-datasources.xml"]
    let passwordPaths = [
      "datasources/master-datasources.xml": ["WSO2UM_DB", "WSO2REG_DB"],
      "datasources/analytics-datasources.xml": ["WSO2_ANALYTICS_EVENT_STORE_DB", "WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB"],
    ]
    let namesBefore = Dictionary(uniqueKeysWithValues: allHosts.map { ($0, Set(tree($0, conf).keys)) })
    var versions: [String: Set<[UInt8]>] = [:]
    for host in allHosts { for file in managed { versions["\(host) \(file)"] = [sandbox.bytes(host, "\(conf)/\(file)")!] } }
    let temp = try Regex(#"^(.*/)?\.([^/]+)\.dasprov-tmp-[A-Za-z0-9]+$"#)
    let backup = try Regex(#"^(.+)\.dasprov-[0-9]{8}T[0-9]{9}Z\.bak$"#)

    var landed: [String: Int] = [:]
    for trial in 0..<trials {
      let serial = trial % 3 == 2
      let delay = Double.random(in: serial ? 0.2...2.8 : 0.1...1.2)
      let p = try await launchDasprov(["apply", inventories[(trial + 1) % 2]] + (serial ? ["-f", "1"] : []))
      try await Task.sleep(for: .seconds(delay))
      p.signal(SIGKILL)
      _ = try await p.wait()
      try await Task.sleep(for: .milliseconds(150))  // a remote script still running ends at its next write to the dead channel

      // xmllint parses every managed file of every host at once: a partial file fails.
      let lint = try await sandbox.run("/usr/bin/xmllint", ["--noout"] + allHosts.flatMap { h in managed.map { sandbox.local(h, "\(conf)/\($0)") } })
      #expect(lint.status == 0, "trial \(trial) (\(delay)s): \(lint.stderr)")
      var seen: Set<String> = []
      for host in allHosts {
        for file in managed {
          let key = "\(host) \(file)"
          guard let bytes = sandbox.bytes(host, "\(conf)/\(file)") else {
            Issue.record("trial \(trial) (\(delay)s): \(key) is missing")
            continue
          }
          versions[key]!.insert(bytes)
          // The passwords of the managed datasources: all old or all new.
          let values = managedPasswords(bytes)
          #expect(values.count == passwordPaths[file]!.count && Set(values).count == 1 && passwords.contains(values[0]), "trial \(trial): \(key) has passwords \(values)")
          seen.formUnion(values)
        }
        // Every name is one the tree had, a temp file beside one, or a backup of one.
        for (name, bytes) in tree(host, conf) where !namesBefore[host]!.contains(name) {
          if let m = name.wholeMatch(of: backup), let base = m.output[1].substring.map(String.init), let bytes {
            #expect(managed.contains(base) ? versions["\(host) \(base)"]!.contains(bytes) : namesBefore[host]!.contains(base), "trial \(trial): \(host) backup \(name) is not a whole version")
          } else if let m = name.wholeMatch(of: temp) {
            let base = (m.output[1].substring.map(String.init) ?? "") + (m.output[2].substring.map(String.init) ?? "")
            #expect(namesBefore[host]!.contains(base), "trial \(trial): \(host) temp file \(name) beside no managed file")
          } else if bytes != nil {
            Issue.record("trial \(trial) (\(delay)s): \(host) has a file dasprov should not have made: \(conf)/\(name)")
          }
        }
      }
      landed[seen.count == 2 ? "with old and new files side by side" : "with every file at \(seen.first!)", default: 0] += 1
    }
    for (key, set) in versions { #expect(set.count <= 2, "\(key) was seen in \(set.count) versions") }
    print("kill trials: \(trials): \(landed.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))")

    let converge = try await sandbox.dasprov(["apply", inventories[0]])
    #expect(converge.status == 0, "\(converge.all)")
    let again = try await sandbox.dasprov(["apply", inventories[0]])
    #expect(again.status == 0, "\(again.all)")
    for host in allHosts {
      #expect(again.recap(host)?["changed"] == 0 && again.recap(host)?["restarted"] == 0, "\(host): \(again.stdout)")
      for file in managed {
        #expect(try await sandbox.xpath(host, "\(conf)/\(file)", passwordXPath(passwordPaths[file]!)) == passwordPaths[file]!.map { _ in passwords[0] }.joined(separator: "|"))
      }
    }
  }

  /// The `<password>` values of a datasources file, unescaped, but the stock H2 one.
  func managedPasswords(_ bytes: [UInt8]) -> [String] {
    String(decoding: bytes, as: UTF8.self).matches(of: #/<password>([^<]*)</password>/#).map {
      String($0.output.1).replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }.filter { $0 != "wso2carbon" }
  }

  /// The passwords of the named datasources, joined by `|`, as one XPath.
  func passwordXPath(_ datasources: [String]) -> String {
    "concat(" + datasources.map { "string(//datasource[name='\($0)']/definition/configuration/password)" }.joined(separator: ", '|', ") + ")"
  }

  // MARK: - sshd killed mid-run

  /// A node's sshd (listener and session) killed while the roll is under way: the node fails,
  /// the other nodes keep the configuration they got, and no node of its role (receivers) or of
  /// a later role (presenters) is restarted; exit 3 and a summary that names the node.
  @Test func anSshdKilledMidRollFailsItsHostAndItsRoleIsNotRestarted() async throws {
    try await sandbox.reset()
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    try await withCleanup {
      let inventory = try sandbox.inventoryVariant("sshd-kill.ini") { $0 + "cep_persistence=false\n" }
      let log = "\(sandbox.state)/sshd-kill.log"
      let began = Date()
      let p = try await launchDasprov(["apply", inventory], log: log)
      // The roll has begun once the first analyzer restarts; then host6's sshd goes, sessions too.
      let deadline = Date().addingTimeInterval(60)
      while startTimes("host1").filter({ $0.0 >= began }).isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
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
      let ended = try await finish(p, within: 120)
      #expect(ended != nil, "dasprov did not end")
      let out = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
      let r = Sandbox.Result(status: ended?.status ?? -1, stdout: out, stderr: "")
      #expect(r.status == 3, "\(out)")
      #expect((r.recap("host6")?["failed"] ?? 0) + (r.recap("host6")?["unreachable"] ?? 0) == 1, "\(out)")
      #expect(out.contains("halted") && out.contains("host6"), "\(out)")
      for host in allHosts {
        #expect(try await sandbox.xpath(host, "\(das)/repository/conf/event-processor.xml", "string(/eventProcessorConfiguration/mode[@name='HA']/persistence/@enable)") == "false", "\(host) kept the old configuration")
      }
      for host in ["host1", "host2", "host3", "host4"] { #expect(startTimes(host).filter { $0.0 >= began }.count == 1, "\(host) restarted \(startTimes(host).filter { $0.0 >= began }.count) times") }
      for host in ["host5", "host7", "host8"] {
        #expect(startTimes(host).filter { $0.0 >= began }.isEmpty, "\(host) restarted though host6 (receivers) was gone:\n\(out)")
      }
    } cleanup: {
      try? await sandboxUp()
      try? await sandbox.reset()
    }
  }

  // MARK: - Disk full

  /// A tiny full tmpfs over one node's datasources directory: the write fails with the host, the
  /// file and the system's reason, the original file is intact, no temp file is left, and the
  /// other nodes get their configuration.
  @Test func aFullDiskFailsTheWriteAndKeepsTheOriginalFile() async throws {
    try await sandbox.reset()
    let dir = "\(das)/repository/conf/datasources"
    let stage = "\(sandbox.state)/disk-full-stage"
    try? FileManager.default.removeItem(atPath: stage)
    try FileManager.default.copyItem(atPath: sandbox.local("host4", dir), toPath: stage)
    let original = try #require(FileManager.default.contents(atPath: "\(stage)/master-datasources.xml"))
    // Mount, copy the files in, fill it, then free one page: room for the backup, not the new file.
    let mount = try await inHost("host4", """
      mount -t tmpfs -o size=64k,mode=755 dasprov-full '\(dir)' && cp -a '\(stage)'/. '\(dir)'/ || exit 1
      i=0; while dd if=/dev/zero of='\(dir)'/.fill-$i bs=4096 count=1 2>/dev/null; do i=$((i + 1)); done
      rm -f '\(dir)'/.fill-0 '\(dir)'/.fill-$i
      """)
    try await withCleanup {
      try #require(mount.status == 0, "\(mount.all)")

      let r = try await sandbox.dasprov(["apply", sandbox.inventory])
      #expect(r.status == 3, "\(r.all)")
      let failure = r.stdout.split(separator: "\n").first { $0.hasPrefix("host4: ") && $0.contains("FAILED") } ?? ""
      #expect(failure.contains("\(dir)/master-datasources.xml") && failure.contains("No space left on device"), "\(r.stdout)")
      // The two shared-datasource tasks both edit master-datasources.xml: their one write failed.
      #expect(failure.contains("FAILED das-datasources : shared datasource (WSO2UM_DB), das-datasources : shared datasource (WSO2REG_DB)"), "\(failure)")
      #expect(r.recap("host4")?["failed"] == 2)
      let inside = try await inHost("host4", "cat '\(dir)/master-datasources.xml'; ls -a '\(dir)' >&2")
      #expect(Data(inside.stdout.utf8) == original, "the original file changed")
      #expect(!inside.stderr.contains("dasprov-tmp"), "a temp file was left: \(inside.stderr)")
      for host in allHosts where host != "host4" {
        #expect(r.recap(host)?["failed"] == 0, "\(host)")
        #expect(try await sandbox.xpath(host, "\(das)/repository/conf/axis2/axis2.xml", "string(/axisconfig/clustering/@enable)") == "true", "\(host)")
      }
    } cleanup: {
      _ = try? await inHost("host4", "umount '\(dir)'")
      try? FileManager.default.removeItem(atPath: stage)
      try? await sandbox.reset()
    }
  }
}

extension Cluster {
  // MARK: - Secrets, suite-wide

  /// Every spelling of `secret` that could reach a log: raw, XML-escaped (with and without the
  /// quotes, named or numeric), URL-encoded (either hex case, space as + or %20), JSON-escaped,
  /// and shell-quoted.
  func spellings(_ secret: String) -> Set<String> {
    let xml = secret.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    var out: Set<String> = [secret, xml]
    for (q, a) in [("&quot;", "&apos;"), ("&quot;", "&#39;"), ("&#34;", "&#39;"), ("\"", "&#39;"), ("&quot;", "'")] {
      out.insert(xml.replacingOccurrences(of: "\"", with: q).replacingOccurrences(of: "'", with: a))
    }
    let url = secret.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"))!
    var lowerHex = ""
    var hexLeft = 0
    for ch in url {
      lowerHex += hexLeft > 0 ? ch.lowercased() : String(ch)
      hexLeft = ch == "%" ? 2 : max(0, hexLeft - 1)
    }
    out.formUnion([url, lowerHex, url.replacingOccurrences(of: "%20", with: "+")])
    out.insert(secret.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))
    out.insert(secret.replacingOccurrences(of: "'", with: "'\\''"))
    return out
  }

  /// Where `text` shows a secret: a spelling of it, its distinctive `marker` (any piece of a
  /// secret gives itself away by it), or either inside a base64 run.
  func leaks(in text: String, secrets: [String], marker: String) -> [String] {
    var found: [String] = []
    let forms = secrets.flatMap(spellings) + [marker]
    for form in forms where text.contains(form) { found.append("'\(form)'") }
    let runs = text.split { !($0.isLetter && $0.isASCII || $0.isNumber || "+/=".contains($0)) }.filter { $0.count >= 16 }
    for run in runs {
      for shift in 0..<4 {
        let chunk = run.dropFirst(shift)
        guard let data = Data(base64Encoded: String(chunk.prefix(chunk.count / 4 * 4))) else { continue }
        let decoded = String(decoding: data, as: UTF8.self)
        for form in forms where decoded.contains(form) { found.append("'\(form)' in base64 \(String(run.prefix(24)))…") }
      }
    }
    return found
  }

  /// The main scenarios at `-vvv --diff --json`, with passwords holding `<&"'`: a first apply, a
  /// plan of a password change, the change, a change whose health gate fails, a rollback. No
  /// spelling of either password, and no piece of one, may appear in any byte dasprov prints;
  /// and dasprov writes no file on the controller (none in the project directory, nothing in
  /// $HOME that holds a secret).
  @Test func secretsNeverReachTheOutputNorTheController() async throws {
    try await sandbox.reset()
    try await withCleanup {
      let passwords = ["Kn0wn<&\"'Pw1]]>", "Kn0wn<&\"' Pw2"]
      let inventories = try passwords.enumerated().map { i, pw in
        try sandbox.inventoryVariant("secret-\(i).ini") {
          $0.replacingOccurrences(of: "db_password=Das-Sandbox-Pw1", with: "db_password='\(pw.replacingOccurrences(of: "'", with: "\\'"))'")
        }
      }
      // Only the run whose gate must fail gets a shorter start timeout (host2's never passes; host1
      // restarts first and must still pass it under load); the other runs keep the default. It
      // keeps the rotated password (a rollback restores files, not the database server's password)
      // and changes the pool size, so the nodes restart.
      let secondInventory = try String(contentsOfFile: inventories[1], encoding: .utf8)
      let failingGate = try sandbox.inventoryVariant("secret-fail.ini") { _ in
        secondInventory + "das_start_timeout=6\ndas_datasource_max_active=45\n"
      }
      let home = FileManager.default.homeDirectoryForCurrentUser.path
      let stamp = "\(sandbox.state)/secrets.stamp"
      try Data().write(to: URL(fileURLWithPath: stamp))
      let v = ["-vvv", "--diff", "--json", "--limit", "analyzers:db1"]
      var runs: [(String, Sandbox.Result)] = []
      func run(_ name: String, _ args: [String], expect status: Int32) async throws {
        let r = try await sandbox.dasprov(args + v)
        #expect(r.status == status, "\(name): \(r.all)")
        #expect((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) != nil, "\(name): stdout is not one JSON document")
        runs.append((name, r))
      }
      try await run("first apply", ["apply", inventories[0]], expect: 0)
      try await run("plan --diff of a password change", ["plan", inventories[1]], expect: 2)
      try await run("password change", ["apply", inventories[1]], expect: 0)
      #expect(FileManager.default.createFile(atPath: sandbox.local("host2", "/etc/dasprov-sandbox/fail-start"), contents: Data()))
      try await run("failing health gate", ["apply", failingGate], expect: 3)
      try FileManager.default.removeItem(atPath: sandbox.local("host2", "/etc/dasprov-sandbox/fail-start"))
      try await run("rollback", ["rollback", inventories[1]], expect: 0)

      for (name, r) in runs {
        let found = leaks(in: r.stdout + r.stderr, secrets: passwords, marker: "Kn0wn")
        #expect(found.isEmpty, "\(name) printed a secret: \(found.prefix(5))")
      }
      // Nothing on the controller: no new file in the project, no secret in anything new in $HOME.
      let newInProject = try await filesNewer(than: stamp, under: Sandbox.projectRoot)
      #expect(newInProject.isEmpty, "dasprov wrote \(newInProject)")
      for path in try await filesNewer(than: stamp, under: home) {
        let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        let found = leaks(in: text, secrets: passwords, marker: "Kn0wn")
        #expect(found.isEmpty, "\(path) holds a secret: \(found.prefix(3))")
      }
    } cleanup: {
      try? FileManager.default.removeItem(atPath: sandbox.local("host2", "/etc/dasprov-sandbox/fail-start"))
      try? await sandbox.reset()
    }
  }

  /// Regular files under `root` modified after `stamp` was, build products and fuzz corpora
  /// aside (`find`: $HOME holds caches of hundreds of thousands of files).
  func filesNewer(than stamp: String, under root: String) async throws -> [String] {
    let r = try await sandbox.run("/usr/bin/find", [
      // .git changes whenever anyone commits (another worktree of this clone, say) during the run.
      root, "-xdev", "(", "-name", ".build", "-o", "-name", ".git", "-o", "-name", ".swiftpm", "-o", "-name", "corpus", "-o", "-name", "crashes", ")", "-prune",
      "-o", "-type", "f", "-newer", stamp, "-print",
    ])
    return r.stdout.split(separator: "\n").map(String.init)
  }
}
