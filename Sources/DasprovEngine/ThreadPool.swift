import Foundation

/// Runs blocking work on dedicated OS threads, at most `limit` at once.
///
/// libssh2 calls block, and Swift's cooperative pool has only as many threads as cores (2 here):
/// one blocked call there stalls everything. Each host gets its own thread instead.
enum ThreadPool {
  static func run(count: Int, limit: Int, _ body: @escaping @Sendable (Int) -> Void) {
    guard count > 0 else { return }
    let slots = DispatchSemaphore(value: max(1, limit))
    let group = DispatchGroup()
    for index in 0..<count {
      slots.wait()
      group.enter()
      let thread = Thread {
        body(index)
        slots.signal()
        group.leave()
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    group.wait()
  }
}

/// A value shared between threads behind a lock.
final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value

  init(_ value: Value) { self.value = value }

  func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }

  var current: Value { withLock { $0 } }
}
