import Dispatch
import Foundation
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How the tests start a program: one function, on swift-subprocess, for every test target.
///
/// - The child's standard input is /dev/null unless `input` gives it bytes, and it inherits no
///   other descriptor of the test process (swift-subprocess opens everything close-on-exec and
///   closes the rest), so no pipe of another test's child can keep a reader waiting.
/// - Standard output and standard error are read concurrently (a full pipe never blocks the
///   child), or go to a file or /dev/null.
/// - Every run has a deadline: a command still running then is torn down (SIGKILL) and the run
///   throws `Command.TimedOut`; a test never hangs on a command.
/// - It is async, and waits without blocking a thread: never wrap it in a semaphore on a
///   cooperative thread (the machine has 2 cores, so the pool has 2 threads). Synchronous code
///   that has to wait for a command runs on a thread of its own: see `OwnThread`.
/// - Its own work (reading output, watching the child and the deadline) runs off the
///   cooperative pool (`CommandExecutor`): synchronous tests keep both pool threads busy for a
///   minute at a time, and a deadline watched from the pool would fire late, or count that wait
///   as the command's.
public enum Command {
  /// What the child reads on its standard input.
  public enum Input: Sendable {
    /// /dev/null.
    case none
    /// These bytes, then end of file.
    case bytes([UInt8])
    /// This text in UTF-8, then end of file.
    public static func text(_ text: String) -> Input { .bytes(Array(text.utf8)) }
  }

  /// Where a standard output or standard error goes.
  public enum Destination: Sendable {
    /// Collected into the result (at most `Command.outputLimit` bytes; more is an error) until
    /// the command ends. What a process it started writes after that is lost, and such a
    /// process holding the pipe open does not hold up the run.
    case capture
    /// Collected until no process holds the pipe any more, as `command | cat` reads it: a
    /// daemon the command started that keeps the pipe open holds the run up to its deadline.
    case captureUntilClosed
    /// /dev/null.
    case discard
    /// Appended to this file (as `>>file`), created 0600 when missing. Two destinations may
    /// name the same file: both are opened for appending, so their writes interleave whole.
    case file(String)
  }

  /// How a command ended, and what it printed.
  public struct Result: Sendable {
    /// The exit status; 128 + N when signal N ended it (as a shell reports it).
    public var status: Int32
    /// The signal that ended it, if one did.
    public var signal: Int32?
    /// Standard output and error, when captured (empty otherwise).
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// Wall-clock seconds from the start to the end.
    public var seconds: Double

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
  }

  /// A command that had not ended at its deadline (it has been torn down).
  public struct TimedOut: Error, CustomStringConvertible {
    public var command: String
    public var seconds: Double
    public var description: String {
      "`\(command)` did not end within \(Int(seconds.rounded())) s; it was killed"
    }
  }

  /// The deadline of a run that names none: far above any test's command, so that it only
  /// ends runs that hang.
  public static let defaultTimeout: Duration = .seconds(600)
  /// The most a captured stream may hold.
  public static let outputLimit = 256 << 20

  /// Runs `executable` (a path, or a name looked up in PATH) with `arguments` to its end.
  ///
  /// - Parameters:
  ///   - environment: variables set for the child, over the inherited environment (over none
  ///     when `inheritEnvironment` is false).
  ///   - workingDirectory: the child's working directory (the test's when nil).
  ///   - timeout: the deadline; the command is killed at it and the run throws `TimedOut`.
  ///   - onTimeout: runs at the deadline, before the command is torn down (to end whatever
  ///     the command left behind). A command that only ends because of it still timed out.
  /// - Throws: `TimedOut`, or swift-subprocess's error when the program cannot be started.
  ///   A non-zero status is a result, not an error.
  public static func run(
    _ executable: String, _ arguments: [String] = [], input: Input = .none,
    environment: [String: String] = [:], inheritEnvironment: Bool = true, workingDirectory: String? = nil,
    stdout: Destination = .capture, stderr: Destination = .capture,
    timeout: Duration = defaultTimeout, onTimeout: (@Sendable () async -> Void)? = nil
  ) async throws -> Result {
    let spec = Spec(
      executable: executable, arguments: arguments, input: input, environment: environment,
      inheritEnvironment: inheritEnvironment, workingDirectory: workingDirectory, stdout: stdout, stderr: stderr)
    return try await withTaskExecutorPreference(CommandExecutor.shared) {
      try await withDeadline(timeout, spec: spec, onTimeout: onTimeout) {
        try await spec.execute(onStart: nil)
      }
    }
  }

  /// Starts `executable` in the background (to be signalled, killed or watched while the test
  /// goes on) and returns once it runs; `Running.wait()` gives its result. Same parameters as
  /// `run`, but output is discarded unless told otherwise; the deadline counts from the start.
  public static func start(
    _ executable: String, _ arguments: [String] = [], input: Input = .none,
    environment: [String: String] = [:], inheritEnvironment: Bool = true, workingDirectory: String? = nil,
    stdout: Destination = .discard, stderr: Destination = .discard,
    timeout: Duration = defaultTimeout
  ) async throws -> Running {
    let spec = Spec(
      executable: executable, arguments: arguments, input: input, environment: environment,
      inheritEnvironment: inheritEnvironment, workingDirectory: workingDirectory, stdout: stdout, stderr: stderr)
    let (pids, pidSink) = AsyncStream.makeStream(of: pid_t.self)
    let (released, release) = AsyncStream.makeStream(of: Void.self)
    let task = Task(executorPreference: CommandExecutor.shared) {
      defer { pidSink.finish() }
      return try await withDeadline(timeout, spec: spec, onTimeout: nil) {
        // The child is not reaped before this returns, so its pid stays its own until then.
        try await spec.execute { pid in
          pidSink.yield(pid)
          pidSink.finish()
          for await _ in released {}
        }
      }
    }
    for await pid in pids { return Running(pid: pid, task: task, release: release) }
    // No pid: the start failed, and the task ended with the reason.
    release.finish()
    _ = try await task.value
    throw NotStarted(command: spec.description)
  }

  /// A background command that gave no process (and no other reason).
  public struct NotStarted: Error, CustomStringConvertible {
    public var command: String
    public var description: String { "`\(command)` did not start" }
  }

  /// A command started by `start`.
  public final class Running: Sendable {
    /// Its process ID: valid for `signal` until `wait` is called.
    public let pid: pid_t
    private let task: Task<Result, any Error>
    private let release: AsyncStream<Void>.Continuation

    fileprivate init(pid: pid_t, task: Task<Result, any Error>, release: AsyncStream<Void>.Continuation) {
      self.pid = pid
      self.task = task
      self.release = release
    }

    /// Sends `signal` (SIGKILL, SIGTERM, …). Call it before `wait`: until then the process is
    /// not reaped, so the pid cannot name another process.
    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the command's end (at most its deadline: then it is killed and this throws
    /// `TimedOut`).
    public func wait() async throws -> Result {
      release.finish()
      return try await task.value
    }

    /// Waits at most `limit` for the command's end; when it has not ended by then it is
    /// killed, and this returns nil.
    public func wait(upTo limit: Duration) async throws -> Result? {
      release.finish()
      let task = self.task
      let ended = await withTaskExecutorPreference(CommandExecutor.shared) {
        await withTaskGroup(of: Bool.self) { group in
          group.addTask {
            _ = try? await task.value
            return true
          }
          group.addTask {
            try? await Task.sleep(for: limit)
            return false
          }
          let first = await group.next() ?? false
          // Too late: cancelling the run makes swift-subprocess kill the child, which ends the
          // waiter above (awaiting a task's value does not stop at cancellation).
          if !first { task.cancel() }
          group.cancelAll()
          return first
        }
      }
      return ended ? try await task.value : nil
    }

    /// A test that ends without waiting leaves nothing running.
    deinit {
      release.finish()
      task.cancel()
    }
  }
}

// MARK: - Running one command

extension Command {
  /// Everything a run needs, as plain values.
  fileprivate struct Spec: Sendable, CustomStringConvertible {
    var executable: String
    var arguments: [String]
    var input: Input
    var environment: [String: String]
    var inheritEnvironment: Bool
    var workingDirectory: String?
    var stdout: Destination
    var stderr: Destination

    var description: String { ([executable] + arguments).joined(separator: " ") }

    var configuration: Configuration {
      var env: Environment
      if inheritEnvironment {
        env = .inherit.updating(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) }))
      } else {
        env = .custom(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) }))
      }
      return Configuration(
        executable: executable.contains("/") ? .path(FilePath(executable)) : .name(executable),
        arguments: Arguments(arguments), environment: env,
        workingDirectory: workingDirectory.map { FilePath($0) })
    }

    /// Runs the command to its end; `onStart` (given the pid) runs while it runs, and the
    /// command is only reaped once `onStart` has returned.
    func execute(onStart: (@Sendable (pid_t) async -> Void)?) async throws -> Result {
      let input: any InputProtocol =
        switch self.input {
        case .none: NoInput.none
        case .bytes(let bytes): ArrayInput.array(bytes)
        }
      let started = ContinuousClock.now
      let (output, outputReader) = try Self.output(stdout)
      var errorReader: PipeReader?
      var raw: Raw
      do {
        let error: any ErrorOutputProtocol
        (error, errorReader) = try Self.output(stderr)
        raw = try await Command.launch(configuration, input: input, output: output, error: error, onStart: onStart)
      } catch {
        outputReader?.abandon()
        errorReader?.abandon()
        throw error
      }
      if let outputReader { raw.stdout = try await outputReader.bytes() }
      if let errorReader { raw.stderr = try await errorReader.bytes() }
      var result = Result(status: 0, signal: nil, stdout: raw.stdout, stderr: raw.stderr, seconds: (ContinuousClock.now - started).seconds)
      switch raw.status {
      case .exited(let code): result.status = code
      case .signaled(let signal):
        result.status = 128 + signal
        result.signal = signal
      }
      return result
    }

    /// A destination as a swift-subprocess output, and the reader of a pipe of our own.
    static func output(_ destination: Destination) throws -> (any ErrorOutputProtocol, PipeReader?) {
      switch destination {
      case .capture: return (BytesOutput.bytes(limit: Command.outputLimit), nil)
      case .discard: return (DiscardedOutput.discarded, nil)
      case .file(let path):
        let fd = try FileDescriptor.open(
          FilePath(path), .writeOnly, options: [.create, .append, .closeOnExec], permissions: [.ownerReadWrite])
        return (FileDescriptorOutput.fileDescriptor(fd, closeAfterSpawningProcess: true), nil)
      case .captureUntilClosed:
        // A named pipe, so that both ends are close-on-exec from the start (Glibc's module has
        // no pipe2): no program that another test starts meanwhile may inherit one.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dasprov-pipe-\(UUID().uuidString)").path
        guard mkfifo(path, 0o600) == 0 else { throw Errno(rawValue: errno) }
        defer { unlink(path) }
        let read = try FileDescriptor.open(FilePath(path), .readOnly, options: [.nonBlocking, .closeOnExec])
        do {
          let write = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.closeOnExec])
          return (FileDescriptorOutput.fileDescriptor(write, closeAfterSpawningProcess: true), PipeReader(read.rawValue))
        } catch {
          try? read.close()
          throw error
        }
      }
    }
  }

  fileprivate struct Raw: Sendable {
    var status: TerminationStatus
    var stdout: [UInt8]
    var stderr: [UInt8]
  }

  /// The one call of swift-subprocess (generic over its input and output types; the callers'
  /// existentials are opened here).
  fileprivate static func launch<I: InputProtocol, O: ErrorOutputProtocol, E: ErrorOutputProtocol>(
    _ configuration: Configuration, input: I, output: O, error: E, onStart: (@Sendable (pid_t) async -> Void)?
  ) async throws -> Raw {
    let result = try await Subprocess.run(configuration, input: input, output: output, error: error) { execution in
      await onStart?(execution.processIdentifier.value)
    }
    return Raw(
      status: result.terminationStatus, stdout: (result.standardOutput as? [UInt8]) ?? [],
      stderr: (result.standardError as? [UInt8]) ?? [])
  }

  /// Runs `body` with a deadline: at it, `onTimeout` runs, then `body` is cancelled (which
  /// makes swift-subprocess kill the command) and this throws `TimedOut`.
  fileprivate static func withDeadline(
    _ timeout: Duration, spec: Spec, onTimeout: (@Sendable () async -> Void)?,
    _ body: @escaping @Sendable () async throws -> Result
  ) async throws -> Result {
    let started = ContinuousClock.now
    let result = try await withThrowingTaskGroup(of: Result?.self) { group in
      group.addTask { try await body() }
      group.addTask {
        try await Task.sleep(for: timeout)
        await onTimeout?()
        return nil
      }
      defer { group.cancelAll() }
      return try await group.next() ?? nil
    }
    let elapsed = ContinuousClock.now - started
    // Nil when the deadline came first; a result that only came at the deadline (because
    // `onTimeout` ended what held the command) is just as late.
    guard let result, elapsed < timeout else { throw TimedOut(command: spec.description, seconds: elapsed.seconds) }
    return result
  }
}

/// Where `Command` runs its own tasks: a serial queue of its own, off the cooperative pool. Its
/// jobs are short (nothing in them blocks: swift-subprocess waits with epoll, `PipeReader` on
/// threads of its own), so one thread serves every command.
public final class CommandExecutor: TaskExecutor {
  public static let shared = CommandExecutor()
  private let queue = DispatchQueue(label: "dasprov.test-support.command")

  public func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    let executor = asUnownedTaskExecutor()
    queue.async { job.runSynchronously(on: executor) }
  }
}

/// Reads a pipe to its end on a thread of its own (a blocking read there holds no thread of the
/// cooperative pool), from the moment it is made, so the writer never waits on a full pipe.
/// `abandon` (or cancelling `bytes`) stops it within 0.1 s.
final class PipeReader: Sendable {
  private struct State: Sendable {
    var bytes: [UInt8] = []
    var done = false
    var stop = false
    var waiter: CheckedContinuation<[UInt8], Never>?
  }
  private let state = Mutex(State())

  init(_ fd: Int32) {
    Thread { [self] in self.readToEnd(fd) }.start()
  }

  private func readToEnd(_ fd: Int32) {
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var collected: [UInt8] = []
    while !state.withLock({ $0.stop }) {
      var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let n = poll(&ready, 1, 100)
      if n == 0 || (n < 0 && errno == EINTR) { continue }
      if n < 0 { break }
      let got = read(fd, &buffer, buffer.count)
      if got < 0 && (errno == EINTR || errno == EAGAIN) { continue }
      if got <= 0 { break }
      collected += buffer[..<got]
    }
    close(fd)
    let waiter = state.withLock { state in
      state.bytes = collected
      state.done = true
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume(returning: collected)
  }

  /// What was read, once the pipe is closed (or the reading abandoned).
  func bytes() async throws -> [UInt8] {
    let bytes = await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        let ready: [UInt8]? = state.withLock { state in
          if state.done { return state.bytes }
          state.waiter = continuation
          return nil
        }
        if let ready { continuation.resume(returning: ready) }
      }
    } onCancel: {
      abandon()
    }
    try Task.checkCancellation()
    return bytes
  }

  func abandon() { state.withLock { $0.stop = true } }
}

extension Duration {
  /// This duration in seconds.
  public var seconds: Double {
    let (s, attoseconds) = components
    return Double(s) + Double(attoseconds) / 1e18
  }
}
