import DasprovCore
import DasprovShell
import DasprovTasks

/// The round trips beyond a host's survey: the bytes of files whose plan needs them, and the
/// record lines a no-op proved.
extension Runner {
  /// The stat and bytes of `paths` on `host`, in one round trip.
  func contents(of paths: [String], on host: HostSpec, _ connection: HostConnection) -> Result<GatheredFacts, FactOutputError> {
    let program = FactProgram(contentsOf: paths)
    do {
      let result = try run(program.program, on: host, connection, timeout: 120)
      guard result.status == 0 || !result.stdout.isEmpty else {
        return .failure(FactOutputError(description: "reading files failed (status \(result.status)): \(result.stderrTail)"))
      }
      return .success(try program.parse(result.stdout))
    } catch {
      return .failure(FactOutputError(description: "reading files failed: \(error)"))
    }
  }

  /// A file of another host that a plan needs the bytes of (once per run, whoever asks).
  func peerContent(_ path: String, on name: String) -> Result<PathFacts, Diagnostic> {
    peerContents.withLock { cache in
      let key = name + "\0" + path
      if let known = cache[key] { return known }
      let result: Result<PathFacts, Diagnostic>
      if let host = world.host(name) {
        do throws(ConnectError) {
          let connection = try connections.connection(for: host)
          result = contents(of: [path], on: host, connection).map { $0.facts.path(path) }.mapError { Diagnostic.error("on \(name), \($0.description)") }
        } catch {
          result = .failure(.error("\(name) is unreachable: \(error.message)"))
        }
      } else {
        result = .failure(.error("no host \(name) in the inventory"))
      }
      cache[key] = result
      return result
    }
  }

  /// Records what a run that changed nothing on the host found to be fixpoints: one exec, once;
  /// the next run needs none. A failure only costs the next run the slow way.
  func writeRecords(_ lines: [(tag: UInt64, record: FileRecord)], on host: HostSpec, _ connection: HostConnection) {
    let apply = ApplyProgram(changes: [], runID: runID, notify: [], stagingDirectory: "", hostName: host.name, records: lines)
    do {
      let result = try run(apply.program, on: host, connection, timeout: 60)
      if !ApplyProgram.report(result.stdout).finished {
        output.verbose(1, "\(host.name): the record of what dasprov wrote was not updated: \(result.stderrTail)")
      }
    } catch {
      output.verbose(1, "\(host.name): the record of what dasprov wrote was not updated: \(error)")
    }
  }
}
