import Foundation

/// A transport failure, saying which host and what happened.
///
/// `kind` is what callers branch on (the engine maps the connection kinds to "unreachable" in the
/// recap); `message` is the sentence users read; `libssh2Code`/`libssh2Message` keep libssh2's
/// own words (`libssh2_session_last_error`) for `-vvv` and bug reports.
public struct SSHError: Error, Sendable, CustomStringConvertible, Equatable {
  public enum Kind: Sendable, Equatable {
    /// The host name did not resolve.
    case dnsFailure
    /// Something answered the TCP connect with a reset: no sshd listening.
    case connectionRefused
    /// No route, network down, or every address failed for another reason.
    case unreachable
    /// The TCP connect did not finish within `SSHOptions.connectTimeout`.
    case connectTimeout
    /// Banner exchange, key exchange or algorithm negotiation failed.
    case handshakeFailed
    /// The host's key is not in the known-hosts file and the policy refuses unknown keys.
    case hostKeyUnknown
    /// The known-hosts file holds a different key of the same type for this host.
    case hostKeyChanged
    /// No authentication method worked. `tried` names what dasprov attempted, `offered` what the
    /// server advertised (`libssh2_userauth_list`).
    case authenticationFailed(tried: [String], offered: [String])
    /// Opening a channel or a channel request failed.
    case channelFailure
    /// An SFTP request failed with this SFTP status code (`LIBSSH2_FX_*`; 0 when unknown).
    case sftp(status: UInt)
    /// A remote command exited non-zero (or by a signal) where success was required.
    case commandFailed(status: Int32, signal: String?)
    /// A command or transfer exceeded its time limit.
    case timeout
    /// The connection broke (reset, EOF, keepalives unanswered).
    case disconnected
    /// The peer violated the SSH protocol (bad MAC, decrypt failure, ...).
    case protocolError
    /// The known-hosts file could not be read or written.
    case knownHostsFile
    /// A local file could not be read or written.
    case localFile
    /// A caller passed something the transport cannot do (e.g. a script too large for `sh -c`).
    case invalidArgument
    /// A failure that is dasprov's or libssh2's own (allocation, misuse).
    case internalError
  }

  public var kind: Kind
  /// The host as the inventory names it.
  public var host: String
  /// What happened and, where there is one, what to do about it.
  public var message: String
  /// libssh2's numeric code (`LIBSSH2_ERROR_*`), when libssh2 reported the failure.
  public var libssh2Code: Int32?
  /// libssh2's own text for the failure (`libssh2_session_last_error`).
  public var libssh2Message: String?

  public init(
    _ kind: Kind, host: String, _ message: String, libssh2Code: Int32? = nil, libssh2Message: String? = nil
  ) {
    self.kind = kind
    self.host = host
    self.message = message
    self.libssh2Code = libssh2Code
    self.libssh2Message = libssh2Message
  }

  /// Whether the host should count as unreachable (no session could be used) rather than failed.
  public var isConnectionFailure: Bool {
    switch kind {
    case .dnsFailure, .connectionRefused, .unreachable, .connectTimeout, .handshakeFailed,
      .hostKeyUnknown, .hostKeyChanged, .authenticationFailed, .disconnected, .protocolError:
      true
    default: false
    }
  }

  public var description: String {
    var text = host.isEmpty ? message : "\(host): \(message)"
    if let code = libssh2Code {
      let name = LibSSH2Code.name(code)
      if let lib = libssh2Message, !lib.isEmpty, !message.contains(lib) {
        text += " (libssh2: \(lib); \(name))"
      } else {
        text += " (\(name))"
      }
    }
    return text
  }
}
