import Foundation

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
    let batch = Batch(items: items, forks: forks, body: body) { done.signal() }
    batch.start()
    done.wait()
    return batch.results()
  }

  /// The same, suspending the task instead of blocking a cooperative thread.
  public static func run<Item: Sendable, Result: Sendable>(
    _ items: [Item], forks: Int, _ body: @escaping @Sendable (Item) -> Result
  ) async -> [Result] {
    await withCheckedContinuation { (continuation: CheckedContinuation<[Result], Never>) in
      let box = BatchBox<Item, Result>()
      let batch = Batch(items: items, forks: forks, body: body) { continuation.resume(returning: box.batch!.results()) }
      box.batch = batch
      batch.start()
    }
  }

  /// Stack size of worker threads: libssh2 and OpenSSL need little; 64 workers stay cheap.
  static let stackSize = 1 << 20
}

private final class BatchBox<Item: Sendable, Result: Sendable>: @unchecked Sendable {
  var batch: Batch<Item, Result>?
}

/// Shared state of one `SSHPool.run`: a work index and result slots under a lock.
private final class Batch<Item: Sendable, Result: Sendable>: @unchecked Sendable {
  private let items: [Item]
  private let forks: Int
  private let body: @Sendable (Item) -> Result
  private let finished: @Sendable () -> Void
  private let lock = NSLock()
  private var next = 0
  private var slots: [Result?]
  private var running = 0

  init(items: [Item], forks: Int, body: @escaping @Sendable (Item) -> Result, finished: @escaping @Sendable () -> Void) {
    self.items = items
    self.forks = max(1, forks)
    self.body = body
    self.finished = finished
    slots = Array(repeating: nil, count: items.count)
  }

  func start() {
    let workers = min(forks, items.count)
    guard workers > 0 else { return finished() }
    running = workers
    for i in 0..<workers {
      let thread = Thread { [self] in work() }
      thread.name = "dasprov-ssh-\(i)"
      thread.stackSize = SSHPool.stackSize
      thread.start()
    }
  }

  private func work() {
    while true {
      let index: Int? = lock.withLock {
        guard next < items.count else { return nil }
        defer { next += 1 }
        return next
      }
      guard let index else { break }
      let result = body(items[index])
      lock.withLock { slots[index] = result }
    }
    let last = lock.withLock {
      running -= 1
      return running == 0
    }
    if last { finished() }
  }

  func results() -> [Result] { lock.withLock { slots.map { $0! } } }
}

/// The run's connections, one per host, opened on first use and reused by every later phase
/// (facts, apply, restarts). A failed connect is remembered, so an unreachable host fails fast
/// in later phases instead of waiting for its timeout again.
public final class SSHSessions: @unchecked Sendable {
  public typealias Connector = @Sendable (SSHOptions) throws -> any RemoteTransport
  private let connector: Connector
  private let lock = NSLock()
  private var entries: [String: Entry] = [:]

  private final class Entry: @unchecked Sendable {
    let lock = NSLock()
    var transport: (any RemoteTransport)?
    var failure: Error?
  }

  /// `connector` defaults to `SSHSession.connect`; engine tests pass a fake.
  public init(connector: @escaping Connector = { try SSHSession.connect($0) }) {
    self.connector = connector
  }

  /// The transport for `options.displayName`, connecting on first use. Blocks the calling
  /// thread; two threads asking for the same host share one connection.
  public func transport(for options: SSHOptions) throws -> any RemoteTransport {
    let entry = lock.withLock {
      if let e = entries[options.displayName] { return e }
      let e = Entry()
      entries[options.displayName] = e
      return e
    }
    return try entry.lock.withLock {
      if let t = entry.transport { return t }
      if let f = entry.failure { throw f }
      do {
        let t = try connector(options)
        entry.transport = t
        return t
      } catch {
        entry.failure = error
        throw error
      }
    }
  }

  /// Every open transport, by host name.
  public var open: [String: any RemoteTransport] {
    lock.withLock { entries.compactMapValues { $0.transport } }
  }

  /// Closes every connection.
  public func closeAll() {
    let all = lock.withLock {
      defer { entries = [:] }
      return entries.values.compactMap { $0.transport }
    }
    for t in all { t.close() }
  }
}
