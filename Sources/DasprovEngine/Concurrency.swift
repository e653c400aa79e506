import Synchronization

/// One connection per host for the whole run, opened on first use by whichever thread needs it
/// first (the host's worker, or the restart phase).
final class ConnectionBroker: Sendable {
  /// A host's connection, or why it could not be made; opened once, under the slot's own lock,
  /// so connecting one host never waits for another.
  private final class Slot: Sendable {
    let result = Mutex<Result<HostConnection, ConnectError>?>(nil)
  }

  private let connector: Connector
  private let slots = Mutex<[String: Slot]>([:])

  init(connector: Connector) { self.connector = connector }

  func connection(for host: HostSpec) throws(ConnectError) -> HostConnection {
    let slot = slots.withLock { slots in
      if let s = slots[host.name] { return s }
      let s = Slot()
      slots[host.name] = s
      return s
    }
    let result = slot.result.withLock { stored in
      if let stored { return stored }
      let made: Result<HostConnection, ConnectError>
      do throws(ConnectError) { made = .success(try connector.connect(host)) } catch { made = .failure(error) }
      stored = made
      return made
    }
    return try result.get()
  }

  /// The connection of a host that was connected successfully, if any.
  func existing(_ name: String) -> HostConnection? {
    guard let slot = slots.withLock({ $0[name] }) else { return nil }
    return slot.result.withLock { try? $0?.get() }
  }

  func closeAll() {
    let all = slots.withLock { Array($0.values) }
    for slot in all { slot.result.withLock { (try? $0?.get())?.close() } }
  }
}
