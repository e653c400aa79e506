// The transport side of bench/ssh/run.sh: connect + auth + `exec true` on many hosts at once,
// and timed uploads. Built in release mode by run.sh as a separate package that links the
// repository's DasprovCore and DasprovSSH sources (no change to the root Package.swift).
import DasprovCore
import DasprovSSH
import Foundation

func now() -> Double { Date().timeIntervalSince1970 }

func usage() -> Never {
  FileHandle.standardError.write(Data("""
    usage: ssh-bench connect --port P --user U --key K --known-hosts F --forks N HOST...
           ssh-bench upload --port P --user U --key K --known-hosts F --method sftp|exec --file F --dest PATH [--sha256 HEX] HOST

    """.utf8))
  exit(2)
}

struct Arguments: Sendable {
  var mode = ""
  var flags: [String: String] = [:]
  var hosts: [String] = []

  init(_ argv: [String]) {
    var args = Array(argv.dropFirst())
    guard !args.isEmpty else { usage() }
    mode = args.removeFirst()
    while !args.isEmpty {
      let a = args.removeFirst()
      if a.hasPrefix("--") {
        guard !args.isEmpty else { usage() }
        flags[String(a.dropFirst(2))] = args.removeFirst()
      } else {
        hosts.append(a)
      }
    }
  }

  func options(_ host: String) -> SSHOptions {
    SSHOptions(
      host: host, port: Int(flags["port"] ?? "22"), user: flags["user"], privateKeyFiles: [flags["key"] ?? ""],
      knownHostsFile: flags["known-hosts"], hostKeyPolicy: .strict, useAgent: false, sshConfigFile: "")
  }
}

final class Gauge: @unchecked Sendable {
  let lock = NSLock()
  var inFlight = 0, peak = 0
  func enter() { lock.withLock { inFlight += 1; peak = max(peak, inFlight) } }
  func leave() { lock.withLock { inFlight -= 1 } }
}

func run(_ a: Arguments) -> Int32 {
  let flags = a.flags, hosts = a.hosts
  switch a.mode {
case "connect":
  let forks = Int(flags["forks"] ?? "64")!
  let gauge = Gauge()
  let start = now()
  let results = SSHPool.run(hosts, forks: forks) { host -> (ok: Bool, seconds: Double, note: String) in
    let t0 = now()
    gauge.enter()
    defer { gauge.leave() }
    do {
      let s = try SSHSession.connect(a.options(host))
      let r = try s.exec(RemoteCommand("true"))
      s.close()
      return (r.succeeded, now() - t0, "")
    } catch {
      return (false, now() - t0, "\(error)")
    }
  }
  let wall = now() - start
  let failed = results.filter { !$0.ok }
  let perHost = results.map(\.seconds).reduce(0, +)
  print(String(format: "wall=%.3f hosts=%d failed=%d peak_in_flight=%d sum_per_host=%.3f max_per_host=%.3f",
               wall, hosts.count, failed.count, gauge.peak, perHost, results.map(\.seconds).max() ?? 0))
  for f in failed.prefix(3) { FileHandle.standardError.write(Data("error: \(f.note)\n".utf8)) }
  return failed.isEmpty ? 0 : 1

case "upload":
  guard let host = hosts.first, let file = flags["file"], let dest = flags["dest"],
    let method = UploadMethod(rawValue: flags["method"] ?? "auto")
  else { usage() }
  do {
    let s = try SSHSession.connect(a.options(host))
    defer { s.close() }
    let t0 = now()
    // With --sha256 the digest is known up front, as when the engine sends one pack to every
    // host; without it the transport hashes the file while sending it.
    let r = try s.upload(.file(file, sha256: flags["sha256"]), to: dest, mode: nil, owner: nil, group: nil, become: nil, method: method)
    let seconds = now() - t0
    print(String(format: "seconds=%.3f bytes=%d method=%@ sha256=%@ round_trips=%d", seconds, r.bytes,
                 r.method.rawValue, r.sha256, s.stats.roundTrips))
  } catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return 1
  }
  return 0

default:
  usage()
}
}

exit(run(Arguments(CommandLine.arguments)))
