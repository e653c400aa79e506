import Dispatch
import Foundation

/// For synchronous code under test that calls back into the test for a command — such as
/// `VaultSecretLoader.runScript` — and so has to wait for an async `Command.run`.
///
/// Waiting for async work blocks a thread; on the cooperative pool (2 threads on this machine)
/// that can deadlock the whole test run. So the synchronous code runs on a thread of its own
/// (`OwnThread.run`), and only there does a callback wait (`OwnThread.wait`).
public enum OwnThread {
  private static let marker = "dasprov.test-support.own-thread"

  /// Runs `body` on a new thread, off the cooperative pool, and awaits what it returns.
  public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      let thread = Thread {
        Thread.current.threadDictionary[marker] = true
        do {
          continuation.resume(returning: try body())
        } catch {
          continuation.resume(throwing: error)
        }
      }
      thread.start()
    }
  }

  /// Called on a thread other than one `run` started, where waiting could deadlock.
  public struct NotOnOwnThread: Error, CustomStringConvertible {
    public var description: String {
      "OwnThread.wait was called outside OwnThread.run (on the cooperative pool it could deadlock)"
    }
  }

  /// Waits for `body` on a thread that `run` started; throws `NotOnOwnThread` anywhere else.
  public static func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    guard Thread.current.threadDictionary[marker] as? Bool == true else { throw NotOnOwnThread() }
    let box = Box<T>()
    let done = DispatchSemaphore(value: 0)
    Task(executorPreference: CommandExecutor.shared) {
      do {
        box.result = .success(try await body())
      } catch {
        box.result = .failure(error)
      }
      done.signal()
    }
    done.wait()
    // The semaphore orders the write before this read.
    return try box.result!.get()
  }

  private final class Box<T>: @unchecked Sendable {
    var result: Swift.Result<T, any Error>?
  }
}
