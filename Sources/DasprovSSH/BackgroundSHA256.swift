import DasprovCore
import Foundation

/// Hashes chunks on a thread of its own, so hashing a large upload overlaps with encrypting and
/// sending it instead of adding to it. At most `capacity` chunks wait, which bounds memory.
final class BackgroundSHA256: @unchecked Sendable {
  private let lock = NSCondition()
  private var queue: [Data] = []
  private var closed = false
  private var digest: String?
  private let capacity: Int

  init(capacity: Int = 4) {
    self.capacity = capacity
    let thread = Thread { [self] in run() }
    thread.name = "dasprov-sha256"
    thread.stackSize = 1 << 20
    thread.start()
  }

  /// Queues a chunk; blocks while `capacity` chunks are already waiting.
  func update(_ chunk: Data) {
    lock.lock()
    while queue.count >= capacity { lock.wait() }
    queue.append(chunk)
    lock.broadcast()
    lock.unlock()
  }

  /// Ends the input without waiting (for error paths, so the thread exits).
  func finish() {
    lock.lock()
    closed = true
    lock.broadcast()
    lock.unlock()
  }

  /// Waits for every queued chunk and returns the hex digest.
  func finalizeHex() -> String {
    lock.lock()
    defer { lock.unlock() }
    closed = true
    lock.broadcast()
    while digest == nil { lock.wait() }
    return digest!
  }

  private func run() {
    var hasher = SHA256()
    while true {
      lock.lock()
      while queue.isEmpty && !closed { lock.wait() }
      if queue.isEmpty && closed {
        digest = hasher.finalizeHex()
        lock.broadcast()
        lock.unlock()
        return
      }
      let chunk = queue.removeFirst()
      lock.broadcast()
      lock.unlock()
      chunk.withUnsafeBytes { hasher.update($0) }
    }
  }
}
