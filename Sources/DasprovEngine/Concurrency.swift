import Foundation

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

/// One connection per host for the whole run, opened on first use by whichever thread needs it
/// first (the host's worker, or another host's planner reading a file from it).
final class ConnectionBroker: @unchecked Sendable {
  private final class Slot: @unchecked Sendable {
    let lock = NSLock()
    var result: Result<HostConnection, ConnectError>?
  }

  private let connector: Connector
  private let lock = NSLock()
  private var slots: [String: Slot] = [:]

  init(connector: Connector) { self.connector = connector }

  func connection(for host: HostSpec) throws(ConnectError) -> HostConnection {
    let slot = lock.withLock {
      if let s = slots[host.name] { return s }
      let s = Slot()
      slots[host.name] = s
      return s
    }
    slot.lock.lock()
    defer { slot.lock.unlock() }
    if let result = slot.result { return try result.get() }
    let result: Result<HostConnection, ConnectError>
    do throws(ConnectError) { result = .success(try connector.connect(host)) } catch { result = .failure(error) }
    slot.result = result
    return try result.get()
  }

  /// The connection of a host that was connected successfully, if any.
  func existing(_ name: String) -> HostConnection? {
    guard let slot = lock.withLock({ slots[name] }) else { return nil }
    return slot.lock.withLock { try? slot.result?.get() }
  }

  func closeAll() {
    let all = lock.withLock { Array(slots.values) }
    for slot in all { slot.lock.withLock { (try? slot.result?.get())?.close() } }
  }
}
