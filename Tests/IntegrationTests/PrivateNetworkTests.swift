import DasprovTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// The cluster behind jump hosts: a sandbox of its own (`sandbox.sh up --private`) whose hosts
/// and database sit in a network namespace that this machine reaches only through a bastion
/// sshd (docs/sandbox.md). A direct connection fails; the cluster is applied through one
/// bastion, then through a chain of two, with one login per bastion per run, counted in the
/// bastions' own sshd logs. `down` removes the namespaces, links and route, also when a test
/// fails.
///
/// State and addresses: `DASPROV_TEST_PRIVATE_STATE` (default /var/tmp/dasprov-test-private)
/// and `DASPROV_TEST_PRIVATE_NET` (default 127.0.9, so the LAN is 10.9.0.0/24).
@Suite(.serialized) struct PrivateNetwork {
  let binary: String
  let state: String
  let net: String
  let dasPack: String?

  init() throws {
    let env = ProcessInfo.processInfo.environment
    guard let binary = env["DASPROV_BIN"] else { throw Sandbox.SandboxMissing() }
    self.binary = binary
    state = env["DASPROV_TEST_PRIVATE_STATE"] ?? "/var/tmp/dasprov-test-private"
    net = env["DASPROV_TEST_PRIVATE_NET"] ?? "127.0.9"
    dasPack = env["DASPROV_DAS_PACK"]
  }

  var script: String { Sandbox.projectRoot + "/sandbox/sandbox.sh" }

  /// Takes this suite's sandbox down with the script itself (never through the code under test).
  @Sendable func down() async {
    _ = try? await Command.run("/bin/bash", [script, "down", "--state", state], stdout: .discard, stderr: .discard, timeout: .seconds(120))
  }

  struct Outcome {
    var status: Int32?
    var output: String
    var seconds: Double
    var timedOut: Bool
  }

  /// Runs a command with stdin on /dev/null, its standard output and error read from pipes to
  /// their end (as `2>&1 | cat`: the end only comes when no process holds a pipe's write side).
  /// A command that outlives `timeout` is a failure the test reports, never a hang of the test
  /// run: `onTimeout` ends whatever it left behind, then the command itself is killed.
  func run(
    _ executable: String, _ args: [String], timeout: Duration, onTimeout: (@Sendable () async -> Void)? = nil
  ) async -> Outcome {
    let started = ContinuousClock.now
    do {
      let r = try await Command.run(
        executable, args, stdout: .captureUntilClosed, stderr: .captureUntilClosed, timeout: timeout, onTimeout: onTimeout)
      return Outcome(status: r.status, output: r.stdoutText + r.stderrText, seconds: r.seconds, timedOut: false)
    } catch let error as Command.TimedOut {
      return Outcome(status: nil, output: "\(error)", seconds: error.seconds, timedOut: true)
    } catch {
      return Outcome(status: nil, output: "\(error)", seconds: (ContinuousClock.now - started).seconds, timedOut: false)
    }
  }

  func dasprov(_ args: [String], timeout: Duration = .seconds(300)) async -> Outcome {
    await run(binary, args + ["--project", Sandbox.projectRoot], timeout: timeout, onTimeout: down)
  }

  /// `name=value` lines of STATE/private.env (written by `up --private`).
  func privateEnv() -> [String: String] {
    let text = (try? String(contentsOfFile: state + "/private.env", encoding: .utf8)) ?? ""
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") {
      let kv = line.split(separator: "=", maxSplits: 1).map(String.init)
      if kv.count == 2 { out[kv[0]] = kv[1] }
    }
    return out
  }

  /// Logins bastion `n` accepted so far.
  func logins(_ n: Int) -> Int {
    let log = (try? String(contentsOfFile: state + "/logs/bastion\(n).sshd.log", encoding: .utf8)) ?? ""
    return log.components(separatedBy: "Accepted publickey for root").count - 1
  }

  /// Network namespaces, links and routes of this machine that mention `word`.
  func network(_ word: String) async -> [String] {
    var found: [String] = []
    for args in [["netns", "list"], ["-o", "link", "show"], ["route", "show"]] {
      let out = await run("/usr/sbin/ip", args, timeout: .seconds(10)).output
      found += out.split(separator: "\n").map(String.init).filter { $0.contains(word) }
    }
    return found
  }

  func inventoryVariant(_ name: String, jump: String?) throws -> String {
    let text = try String(contentsOfFile: state + "/inventory.ini", encoding: .utf8)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      .filter { !$0.hasPrefix("ansible_ssh_common_args=") }
    if let jump { lines.append("ansible_ssh_common_args=\(jump)") }
    let path = state + "/" + name
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func clusterThroughOneBastionAndThroughAChainOfTwo() async throws {
    await down()
    try? FileManager.default.removeItem(atPath: state)
    let up = await run(
      "/bin/bash", [script, "up", "--private", "--hosts", "8", "--state", state, "--net", net] + (dasPack.map { ["--das-pack", $0] } ?? []),
      timeout: .seconds(120), onTimeout: down)
    let env = privateEnv()
    let prefix = env["netns_prefix"] ?? "?"
    let link = env["root_link"] ?? "?"
    let route = "unreachable \(env["private_prefix"] ?? "?").0.0/16"
    do {
      try #require(up.status == 0 && !up.timedOut, "up --private: \(up.output)")
      let b1 = try #require(env["bastion1"]), b2 = try #require(env["bastion2"]), lan = try #require(env["lan_net"])
      let namespaces = await run("/usr/sbin/ip", ["netns", "list"], timeout: .seconds(10)).output
      #expect(namespaces.split(separator: "\n").filter { $0.hasPrefix(prefix + "-") }.count == 3, "the three namespaces exist: \(namespaces)")

      // No route from here to the hosts: a direct connection fails, at once.
      let direct = await dasprov(["apply", try inventoryVariant("direct.ini", jump: nil)], timeout: .seconds(60))
      #expect(direct.status == 3, "\(direct.output)")
      #expect(direct.output.contains("host1 : ok=0 changed=0 failed=0 skipped=0 unreachable=1"), "\(direct.output)")
      #expect(direct.output.contains("\(lan).11"), "the failure names the address: \(direct.output)")
      #expect(direct.seconds < 30, "a direct connection must fail at once, took \(direct.seconds) s")

      // Through bastion 1 (the inventory `up` wrote): the whole cluster, one login.
      let before1 = logins(1)
      let first = await dasprov(["apply", state + "/inventory.ini"])
      #expect(first.status == 0, "\(first.output)")
      for h in 1...8 { #expect(first.output.contains("host\(h) : ok="), "\(first.output)") }
      #expect(first.output.contains("restarted=1"), "\(first.output)")
      #expect(logins(1) - before1 == 1, "one login to the bastion for 9 hosts, got \(logins(1) - before1)")
      // The nodes really were started, as the stand-in server's own record on each host says.
      for h in 1...8 {
        let starts = (try? String(contentsOfFile: state + "/hosts/host\(h)/opt/wso2das-3.1.0/repository/logs/starts.log", encoding: .utf8)) ?? ""
        #expect(!starts.isEmpty, "host\(h) was never started")
      }

      // Through a chain of two (-J as Ansible users write it): nothing to change, one login each.
      let (chainBefore1, chainBefore2) = (logins(1), logins(2))
      let chain = await dasprov(["apply", try inventoryVariant("chain.ini", jump: "-J root@\(b1),root@\(b2) -o ControlMaster=auto")])
      #expect(chain.status == 0, "\(chain.output)")
      #expect(chain.output.contains("9 hosts, 0 with changes, 0 restarts"), "\(chain.output)")
      #expect(logins(1) - chainBefore1 == 1 && logins(2) - chainBefore2 == 1, "one login per bastion: \(logins(1) - chainBefore1), \(logins(2) - chainBefore2)")
      #expect(chain.output.contains("not apply: ControlMaster=auto"), "other -o options are named: \(chain.output)")

      // The FAQ idiom, ProxyCommand="ssh -W %h:%p -q root@bastion": the same jump.
      let before = logins(1)
      let idiom = await dasprov(["apply", try inventoryVariant("idiom.ini", jump: "-o ProxyCommand=\"ssh -W %h:%p -q root@\(b1)\"")])
      #expect(idiom.status == 0, "\(idiom.output)")
      #expect(logins(1) - before == 1)
    } catch {
      await down()
      throw error
    }
    let gone = await run("/bin/bash", [script, "down", "--state", state], timeout: .seconds(60))
    #expect(gone.status == 0, "\(gone.output)")
    let left = await network(prefix) + network(link) + network(route)
    #expect(left.isEmpty, "namespaces, links or routes left: \(left)")
  }
}
