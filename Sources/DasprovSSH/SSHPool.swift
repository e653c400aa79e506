import Foundation
import Synchronization

/// Runs per-host work on dedicated OS threads, at most `forks` at a time.
///
/// libssh2 calls block their thread (waiting in `poll`), and Swift's cooperative pool has only
/// as many threads as cores — 2 here — so running them there would serialise 64 hosts onto 2
/// threads and starve every other task. Each worker here is a `Thread` of its own; results come
/// back in input order whatever order hosts finish in.
public enum SSHPool {
  /// Calls `body` once per item on at most `forks` dedicated threads and returns the results in
  /// input order. Blocks the caller until all are done: call it from a thread, or use the
  /// `async` overload from a task.
  public static func run<Item: Sendable, Result: Sendable>(
    _ items: [Item], forks: Int, _ body: @escaping @Sendable (Item) -> Result
  ) -> [Result] {
    let done = DispatchSemaphore(value: 0)
    let results = Handover<[Result]>()
    Batch(items: items, forks: forks, body: body) { all in
      results.put(all)
      done.signal()
    }.start()
    done.wait()
    return results.take() ?? []
  }

  /// The same, suspending the task instead of blocking a cooperative thread.
  public static func run<Item: Sendable, Result: Sendable>(
    _ items: [Item], forks: Int, _ body: @escaping @Sendable (Item) -> Result
  ) async -> [Result] {
    await withCheckedContinuation { (continuation: CheckedContinuation<[Result], Never>) in
      Batch(items: items, forks: forks, body: body) { continuation.resume(returning: $0) }.start()
    }
  }

  /// Stack size of worker threads: libssh2 and OpenSSL need little; 64 workers stay cheap.
  static let stackSize = 1 << 20
}

/// A value handed from one thread to another.
private final class Handover<Value: Sendable>: Sendable {
  private let value = Mutex<Value?>(nil)
  func put(_ v: Value) { value.withLock { $0 = v } }
  func take() -> Value? { value.withLock { $0 } }
}

/// Shared state of one `SSHPool.run`: a work index and result slots under a lock.
private final class Batch<Item: Sendable, Result: Sendable>: Sendable {
  private struct State {
    var next = 0
    var slots: [Result?]
    var running = 0
  }

  private let items: [Item]
  private let forks: Int
  private let body: @Sendable (Item) -> Result
  /// Called once, by the last worker, with every result in input order.
  private let finished: @Sendable ([Result]) -> Void
  private let state: Mutex<State>

  init(items: [Item], forks: Int, body: @escaping @Sendable (Item) -> Result, finished: @escaping @Sendable ([Result]) -> Void) {
    self.items = items
    self.forks = max(1, forks)
    self.body = body
    self.finished = finished
    state = Mutex(State(slots: Array(repeating: nil, count: items.count)))
  }

  func start() {
    let workers = min(forks, items.count)
    guard workers > 0 else { return finished([]) }
    state.withLock { $0.running = workers }
    for i in 0..<workers {
      let thread = Thread { [self] in work() }
      thread.name = "dasprov-ssh-\(i)"
      thread.stackSize = SSHPool.stackSize
      thread.start()
    }
  }

  private func work() {
    while true {
      let index: Int? = state.withLock { state in
        guard state.next < items.count else { return nil }
        defer { state.next += 1 }
        return state.next
      }
      guard let index else { break }
      let result = body(items[index])
      state.withLock { $0.slots[index] = result }
    }
    // The last worker out hands over the results; the others have stored theirs by then.
    let results: [Result]? = state.withLock {
      $0.running -= 1
      return $0.running == 0 ? $0.slots.map { $0! } : nil
    }
    if let results { finished(results) }
  }
}

/// The run's connections, one per host, opened on first use and reused by every later phase
/// (facts, apply, restarts). A failed connect is remembered, so an unreachable host fails fast
/// in later phases instead of waiting for its timeout again.
public final class SSHSessions: Sendable {
  public typealias Connector = @Sendable (SSHOptions) throws(SSHError) -> any RemoteTransport
  private let connector: Connector
  private let entries = Mutex<[String: Entry]>([:])

  /// One host's connection or failure. Its lock is held while connecting, so a second thread
  /// asking for the same host waits for the first one's connection instead of opening another.
  private final class Entry: Sendable {
    let outcome = Mutex<Swift.Result<any RemoteTransport, SSHError>?>(nil)
  }

  /// The jump hosts the run's sessions share (one login per bastion per run).
  public let jumpHosts: JumpHosts

  /// Connects with `SSHSession.connect`, sharing jump hosts through `jumpHosts`.
  public init(jumpHosts: JumpHosts = JumpHosts()) {
    self.jumpHosts = jumpHosts
    connector = { (options) throws(SSHError) in try SSHSession.connect(options, jumpHosts: jumpHosts) }
  }

  /// A connector of the caller's own; engine tests pass a fake.
  public init(connector: @escaping Connector) {
    self.connector = connector
    jumpHosts = JumpHosts()
  }

  /// The transport for `options.displayName`, connecting on first use. Blocks the calling
  /// thread; two threads asking for the same host share one connection.
  public func transport(for options: SSHOptions) throws(SSHError) -> any RemoteTransport {
    let entry = entries.withLock {
      if let e = $0[options.displayName] { return e }
      let e = Entry()
      $0[options.displayName] = e
      return e
    }
    return try entry.outcome.withLock { (outcome) throws(SSHError) in
      if let outcome { return try outcome.get() }
      let result = Swift.Result { () throws(SSHError) in try connector(options) }
      outcome = result
      return try result.get()
    }
  }

  /// Every open transport, by host name.
  public var open: [String: any RemoteTransport] {
    let all = entries.withLock { $0 }
    return all.compactMapValues { entry in entry.outcome.withLock { try? $0?.get() } }
  }

  /// Closes every connection, then the jump hosts.
  public func closeAll() {
    let all = entries.withLock { entries in
      defer { entries = [:] }
      return Array(entries.values)
    }
    for entry in all { entry.outcome.withLock { try? $0?.get() }?.close() }
    jumpHosts.closeAll()
  }
}
