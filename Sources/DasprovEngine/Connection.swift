import DasprovCore
import Foundation

/// A connected host as the engine uses it: one session, reused for every exec of the run.
///
/// Mostly one thread uses a connection (the host's worker, then the restart loop); another
/// host's planner may `read` through it meanwhile, so implementations serialise their calls
/// (the libssh2 session does, with its lock).
public protocol HostConnection: AnyObject, Sendable {
  /// Feeds `script` to `sh -s` on the host (under `sudo -n` when the host uses become).
  func runScript(_ script: String, timeout: Double?) throws -> CommandOutput
  /// Streams a local file to `remotePath` atomically and verifies it.
  func upload(localPath: String, to remotePath: String, mode: Int) throws
  /// A remote file's bytes (for a file one host's plan needs from another host).
  func read(_ remotePath: String) throws -> [UInt8]
  /// Execs and requests that waited for the server, for the "≤ 2 round trips" promise.
  var roundTrips: Int { get }
  var channelsOpened: Int { get }
  /// Channel data received (stdout, stderr, SFTP reads), connection setup excluded.
  var bytesReceived: Int { get }
  func close()
}

/// Opens connections to inventory hosts.
public protocol Connector: Sendable {
  func connect(_ host: HostSpec) throws(ConnectError) -> HostConnection
}

/// Why a host could not be reached, in words a user can act on.
public struct ConnectError: Error, Sendable, CustomStringConvertible {
  public enum Kind: String, Sendable { case unreachable, authentication, hostKey, configuration }
  public var kind: Kind
  public var message: String

  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }
}
