import Foundation
import Subprocess
import SystemPackage

/// Runs a command with its standard input on /dev/null and a deadline, the way a script or CI
/// runs dasprov. A command that outlives the deadline is a failure the test reports, never a
/// hang of the test run: `onTimeout` is what ends whatever the command left behind (whatever
/// holds its output open), then the command itself is torn down.
enum Bounded {
  enum Destination: Sendable {
    /// Standard output appended to this file (as `>file`).
    case file(String)
    /// Standard output read from a pipe to its end (as `| cat`): the end only comes when no
    /// process holds the pipe's write side any more.
    case pipe
  }

  struct Outcome: Sendable {
    var status: Int32?
    var output: String
    var seconds: Double
    var timedOut: Bool
  }

  struct TimedOut: Error {}

  static func run(
    _ executable: String, _ arguments: [String], stdout destination: Destination, timeout: Double,
    onTimeout: @escaping @Sendable () async -> Void
  ) async -> Outcome {
    let started = Date()
    do {
      return try await withThrowingTaskGroup(of: Outcome.self) { group in
        group.addTask {
          let status: TerminationStatus
          var text = ""
          switch destination {
          case .file(let path):
            let fd = try FileDescriptor.open(
              FilePath(path), .writeOnly, options: [.create, .append], permissions: [.ownerReadWrite])
            let result = try await Subprocess.run(
              .path(FilePath(executable)), arguments: Arguments(arguments), input: .none,
              output: .fileDescriptor(fd, closeAfterSpawningProcess: true), error: .string(limit: 1 << 20))
            status = result.terminationStatus
            text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            text += result.standardError
          case .pipe:
            let result = try await Subprocess.run(
              .path(FilePath(executable)), arguments: Arguments(arguments), input: .none,
              output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
            status = result.terminationStatus
            text = result.standardOutput + result.standardError
          }
          var code: Int32?
          if case .exited(let c) = status { code = c }
          // Ended only because the clean-up at the deadline ended what held it: still too late.
          let seconds = Date().timeIntervalSince(started)
          return Outcome(status: code, output: text, seconds: seconds, timedOut: seconds >= timeout)
        }
        group.addTask {
          try await Task.sleep(for: .seconds(timeout))
          await onTimeout()
          throw TimedOut()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TimedOut() }
        return first
      }
    } catch is TimedOut {
      return Outcome(status: nil, output: "", seconds: Date().timeIntervalSince(started), timedOut: true)
    } catch {
      return Outcome(status: nil, output: "\(error)", seconds: Date().timeIntervalSince(started), timedOut: false)
    }
  }
}

extension Bounded {
  /// Runs a helper command to its end, output discarded (for set-up and clean-up steps).
  static func quietly(_ executable: String, _ arguments: [String]) async {
    _ = try? await Subprocess.run(
      .path(FilePath(executable)), arguments: Arguments(arguments), input: .none, output: .discarded, error: .discarded)
  }
}
