import DasprovInventory
import DasprovCore
import Foundation
import Subprocess

#if canImport(System)
  import System
#else
  import SystemPackage
#endif

/// Runs an executable vault password file, as Ansible does: no arguments (a `-client` script
/// gets `--vault-id LABEL`), stdout is the password.
enum PasswordScript {
  /// Output beyond this is no password.
  private static let limit = 1 << 20

  static func run(_ path: String, _ arguments: [String]) throws(VaultSecretLoader.VaultSourceError)
    -> CommandOutput
  {
    let outcome = Blocking.wait { () async -> Result<CommandOutput, VaultSecretLoader.VaultSourceError> in
      do {
        let result = try await Subprocess.run(
          .path(FilePath(path)), arguments: Arguments(arguments), input: .none,
          output: .bytes(limit: limit), error: .bytes(limit: limit))
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return .success(.init(status: status, stdout: result.standardOutput, stderr: result.standardError))
      } catch {
        return .failure(.init("cannot run the vault password script \(path): \(error)"))
      }
    }
    return try outcome.get()
  }
}

/// Waits for async work from synchronous code: the commands are synchronous, and reading the
/// vault secrets happens once, before anything else runs.
enum Blocking {
  static func wait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = Box<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
      box.value = await body()
      done.signal()
    }
    done.wait()
    // The semaphore orders the write before this read.
    return box.value!
  }

  private final class Box<T>: @unchecked Sendable {
    var value: T?
  }
}
