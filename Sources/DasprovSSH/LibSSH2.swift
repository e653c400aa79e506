import CLibSSH2
import Foundation
import Synchronization

/// Process-wide libssh2 initialisation, reference-counted so that every `libssh2_init` is paired
/// with a `libssh2_exit`.
///
/// `libssh2_init` is not thread-safe and `libssh2_session_init_ex` calls it lazily when nobody
/// else has, so two hosts connecting at once could race. Every `Session` acquires the runtime
/// under this lock before creating its handle and releases it after freeing the handle.
enum LibSSH2Runtime {
  /// How many sessions hold the library.
  private static let users = Mutex(0)

  /// The corresponding C function is `libssh2_init`.
  static func acquire() throws(SSHError) {
    try users.withLock { (users) throws(SSHError) in
      if users == 0 {
        let rc = libssh2_init(0)
        guard rc == 0 else {
          throw SSHError(.internalError, host: "", "libssh2_init failed (\(rc))")
        }
      }
      users += 1
    }
  }

  /// The corresponding C function is `libssh2_exit`.
  static func release() {
    users.withLock { users in
      users -= 1
      if users == 0 { libssh2_exit() }
    }
  }
}

/// libssh2's numeric error codes, by name, for messages and for mapping to `SSHError.Kind`.
///
/// The table is the complete list from libssh2 1.10's `libssh2.h`, so an unexpected code still
/// prints its C name instead of a bare number.
enum LibSSH2Code {
  static func name(_ code: Int32) -> String {
    switch code {
    case 0: "LIBSSH2_ERROR_NONE"
    case -1: "LIBSSH2_ERROR_SOCKET_NONE"
    case -2: "LIBSSH2_ERROR_BANNER_RECV"
    case -3: "LIBSSH2_ERROR_BANNER_SEND"
    case -4: "LIBSSH2_ERROR_INVALID_MAC"
    case -5: "LIBSSH2_ERROR_KEX_FAILURE"
    case -6: "LIBSSH2_ERROR_ALLOC"
    case -7: "LIBSSH2_ERROR_SOCKET_SEND"
    case -8: "LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE"
    case -9: "LIBSSH2_ERROR_TIMEOUT"
    case -10: "LIBSSH2_ERROR_HOSTKEY_INIT"
    case -11: "LIBSSH2_ERROR_HOSTKEY_SIGN"
    case -12: "LIBSSH2_ERROR_DECRYPT"
    case -13: "LIBSSH2_ERROR_SOCKET_DISCONNECT"
    case -14: "LIBSSH2_ERROR_PROTO"
    case -15: "LIBSSH2_ERROR_PASSWORD_EXPIRED"
    case -16: "LIBSSH2_ERROR_FILE"
    case -17: "LIBSSH2_ERROR_METHOD_NONE"
    case -18: "LIBSSH2_ERROR_AUTHENTICATION_FAILED"
    case -19: "LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED"
    case -20: "LIBSSH2_ERROR_CHANNEL_OUTOFORDER"
    case -21: "LIBSSH2_ERROR_CHANNEL_FAILURE"
    case -22: "LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED"
    case -23: "LIBSSH2_ERROR_CHANNEL_UNKNOWN"
    case -24: "LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED"
    case -25: "LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED"
    case -26: "LIBSSH2_ERROR_CHANNEL_CLOSED"
    case -27: "LIBSSH2_ERROR_CHANNEL_EOF_SENT"
    case -28: "LIBSSH2_ERROR_SCP_PROTOCOL"
    case -29: "LIBSSH2_ERROR_ZLIB"
    case -30: "LIBSSH2_ERROR_SOCKET_TIMEOUT"
    case -31: "LIBSSH2_ERROR_SFTP_PROTOCOL"
    case -32: "LIBSSH2_ERROR_REQUEST_DENIED"
    case -33: "LIBSSH2_ERROR_METHOD_NOT_SUPPORTED"
    case -34: "LIBSSH2_ERROR_INVAL"
    case -35: "LIBSSH2_ERROR_INVALID_POLL_TYPE"
    case -36: "LIBSSH2_ERROR_PUBLICKEY_PROTOCOL"
    case -37: "LIBSSH2_ERROR_EAGAIN"
    case -38: "LIBSSH2_ERROR_BUFFER_TOO_SMALL"
    case -39: "LIBSSH2_ERROR_BAD_USE"
    case -40: "LIBSSH2_ERROR_COMPRESS"
    case -41: "LIBSSH2_ERROR_OUT_OF_BOUNDARY"
    case -42: "LIBSSH2_ERROR_AGENT_PROTOCOL"
    case -43: "LIBSSH2_ERROR_SOCKET_RECV"
    case -44: "LIBSSH2_ERROR_ENCRYPT"
    case -45: "LIBSSH2_ERROR_BAD_SOCKET"
    case -46: "LIBSSH2_ERROR_KNOWN_HOSTS"
    case -47: "LIBSSH2_ERROR_CHANNEL_WINDOW_FULL"
    case -48: "LIBSSH2_ERROR_KEYFILE_AUTH_FAILED"
    case -49: "LIBSSH2_ERROR_RANDGEN"
    default: "libssh2 error \(code)"
    }
  }

  /// The kind of failure a libssh2 code means for the caller. `EAGAIN` never gets here: it is
  /// handled by the wait loop and is not an error.
  static func kind(_ code: Int32) -> SSHError.Kind {
    switch code {
    case LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_BAD_SOCKET:
      .disconnected
    case LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT:
      .disconnected
    case LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND, LIBSSH2_ERROR_KEX_FAILURE,
      LIBSSH2_ERROR_KEY_EXCHANGE_FAILURE, LIBSSH2_ERROR_HOSTKEY_INIT, LIBSSH2_ERROR_HOSTKEY_SIGN,
      LIBSSH2_ERROR_METHOD_NONE, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED:
      .handshakeFailed
    case LIBSSH2_ERROR_INVALID_MAC, LIBSSH2_ERROR_DECRYPT, LIBSSH2_ERROR_ENCRYPT, LIBSSH2_ERROR_PROTO,
      LIBSSH2_ERROR_ZLIB, LIBSSH2_ERROR_COMPRESS, LIBSSH2_ERROR_OUT_OF_BOUNDARY:
      .protocolError
    case LIBSSH2_ERROR_TIMEOUT, LIBSSH2_ERROR_SOCKET_TIMEOUT:
      .timeout
    case LIBSSH2_ERROR_PASSWORD_EXPIRED, LIBSSH2_ERROR_AUTHENTICATION_FAILED,
      LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED, LIBSSH2_ERROR_PUBLICKEY_PROTOCOL,
      LIBSSH2_ERROR_AGENT_PROTOCOL, LIBSSH2_ERROR_FILE, LIBSSH2_ERROR_KEYFILE_AUTH_FAILED:
      .authenticationFailed(tried: [], offered: [])
    case LIBSSH2_ERROR_CHANNEL_OUTOFORDER, LIBSSH2_ERROR_CHANNEL_FAILURE,
      LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED, LIBSSH2_ERROR_CHANNEL_UNKNOWN,
      LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED, LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED,
      LIBSSH2_ERROR_CHANNEL_CLOSED, LIBSSH2_ERROR_CHANNEL_EOF_SENT, LIBSSH2_ERROR_CHANNEL_WINDOW_FULL,
      LIBSSH2_ERROR_REQUEST_DENIED, LIBSSH2_ERROR_SCP_PROTOCOL:
      .channelFailure
    case LIBSSH2_ERROR_SFTP_PROTOCOL:
      .sftp(status: 0)
    case LIBSSH2_ERROR_KNOWN_HOSTS:
      .knownHostsFile
    default:
      // ALLOC, INVAL, INVALID_POLL_TYPE, BUFFER_TOO_SMALL, BAD_USE, RANDGEN: our bug or the
      // machine's, never the remote host's.
      .internalError
    }
  }
}

/// SFTP status codes (`LIBSSH2_FX_*`, SFTP v3–v6) as the text users read.
enum SFTPStatus {
  static func text(_ status: UInt) -> String {
    switch status {
    case 0: "ok"
    case 1: "end of file"
    case 2: "no such file"
    case 3: "permission denied"
    case 4: "failure"
    case 5: "bad message"
    case 6: "no connection"
    case 7: "connection lost"
    case 8: "operation unsupported"
    case 9: "invalid handle"
    case 10: "no such path"
    case 11: "file already exists"
    case 12: "write protected"
    case 13: "no media"
    case 14: "no space left on the file system"
    case 15: "quota exceeded"
    case 16: "unknown principal"
    case 17: "lock conflict"
    case 18: "directory not empty"
    case 19: "not a directory"
    case 20: "invalid file name"
    case 21: "too many symbolic links"
    default: "SFTP status \(status)"
    }
  }
}
