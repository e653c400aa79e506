import CLibSSH2
import Foundation

/// Direct bindings to `libssh2_sftp_*`: the owner of one SFTP subsystem channel, holding its
/// `Session` strongly.
final class SFTP {
  let session: Session
  let handle: OpaquePointer

  /// Starts the subsystem (one channel, one round trip). The corresponding C function is
  /// `libssh2_sftp_init`.
  init(session: Session, deadline: Deadline?) throws(SSHError) {
    self.session = session
    let s = session.handle
    guard let h = try session.retryHandle(deadline, { libssh2_sftp_init(s) }) else {
      throw session.error(0, "cannot start the SFTP subsystem", kind: .channelFailure)
    }
    handle = h
    session.context.countChannel()
    session.context.countRoundTrip()
  }

  deinit {
    let deadline = Deadline(after: .seconds(2))
    _ = try? session.retry(deadline) { libssh2_sftp_shutdown(handle) }
  }

  /// The SFTP status of the last failure (`libssh2_sftp_last_error`).
  var lastStatus: UInt { UInt(libssh2_sftp_last_error(handle)) }

  /// A typed error for a failed SFTP call: `.sftp(status:)` with the status text when the
  /// server answered, else the session-level failure.
  func error(_ rc: Int, _ what: String, path: String) -> SSHError {
    if rc == Int(LIBSSH2_ERROR_SFTP_PROTOCOL) {
      let status = lastStatus
      var e = session.error(Int32(rc), "\(what) \(path): \(SFTPStatus.text(status))", kind: .sftp(status: status))
      e.libssh2Message = nil
      return e
    }
    return session.error(Int32(rc), "\(what) \(path) failed")
  }

  /// `stat` or `lstat`; `nil` for "no such file". The corresponding C function is
  /// `libssh2_sftp_stat_ex`.
  func stat(_ path: String, follow: Bool, deadline: Deadline?) throws(SSHError) -> RemoteFileInfo? {
    session.context.countRoundTrip()
    var attrs = LIBSSH2_SFTP_ATTRIBUTES()
    let rc = try session.retry(deadline) {
      libssh2_sftp_stat_ex(handle, path, UInt32(path.utf8.count), follow ? LIBSSH2_SFTP_STAT : LIBSSH2_SFTP_LSTAT, &attrs)
    }
    if rc == LIBSSH2_ERROR_SFTP_PROTOCOL && [LIBSSH2_FX_NO_SUCH_FILE, LIBSSH2_FX_NO_SUCH_PATH].contains(lastStatus) {
      return nil
    }
    guard rc == 0 else { throw error(Int(rc), "cannot stat", path: path) }
    return RemoteFileInfo(
      rawMode: UInt32(truncatingIfNeeded: attrs.permissions), uid: UInt32(truncatingIfNeeded: attrs.uid),
      gid: UInt32(truncatingIfNeeded: attrs.gid), size: UInt64(attrs.filesize), mtime: Int64(attrs.mtime))
  }

  /// The target of a symlink. The corresponding C function is `libssh2_sftp_symlink_ex` with
  /// `LIBSSH2_SFTP_READLINK`.
  func readlink(_ path: String, deadline: Deadline?) throws(SSHError) -> String {
    session.context.countRoundTrip()
    var buffer = [CChar](repeating: 0, count: 4097)
    let rc = try session.retry(deadline) {
      buffer.withUnsafeMutableBufferPointer {
        libssh2_sftp_symlink_ex(handle, path, UInt32(path.utf8.count), $0.baseAddress, UInt32($0.count - 1), LIBSSH2_SFTP_READLINK)
      }
    }
    guard rc >= 0 else { throw error(Int(rc), "cannot read the link", path: path) }
    return String(decoding: buffer.prefix(Int(rc)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Opens a file. The corresponding C function is `libssh2_sftp_open_ex`.
  func open(_ path: String, flags: Int32, mode: Int32, deadline: Deadline?) throws(SSHError) -> SFTPFile {
    session.context.countRoundTrip()
    let h = handle
    guard let file = try session.retryHandle(deadline, {
      libssh2_sftp_open_ex(h, path, UInt32(path.utf8.count), UInt(flags), Int(mode), LIBSSH2_SFTP_OPENFILE)
    }) else {
      let status = lastStatus
      let rc = status != 0 ? Int(LIBSSH2_ERROR_SFTP_PROTOCOL) : Int(libssh2_session_last_errno(session.handle))
      throw error(rc, "cannot open", path: path)
    }
    return SFTPFile(sftp: self, handle: file, path: path)
  }
}

/// Direct bindings to one `LIBSSH2_SFTP_HANDLE`, holding its `SFTP` strongly.
final class SFTPFile {
  let sftp: SFTP
  private var handle: OpaquePointer?
  let path: String

  init(sftp: SFTP, handle: OpaquePointer, path: String) {
    self.sftp = sftp
    self.handle = handle
    self.path = path
  }

  deinit {
    if let h = handle {
      let deadline = Deadline(after: .seconds(2))
      _ = try? sftp.session.retry(deadline) { libssh2_sftp_close_handle(h) }
    }
  }

  /// Writes all of `bytes`. libssh2 ≥ 1.2.8 splits a large buffer into 30 000-byte SFTP writes
  /// and keeps them in flight at once, returning as acknowledgements arrive; so the caller
  /// passes big buffers and calls again with the unacknowledged rest.
  /// Returns how many bytes were acknowledged (the caller advances by that much).
  func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline?) throws(SSHError) -> Int {
    let h = handle!
    let n = try sftp.session.retryCount(deadline) {
      libssh2_sftp_write(h, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
    }
    guard n >= 0 else { throw sftp.error(n, "cannot write", path: path) }
    return n
  }

  /// Reads up to `buffer.count` bytes; 0 at the end of the file.
  func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline?) throws(SSHError) -> Int {
    let h = handle!
    let n = try sftp.session.retryCount(deadline) {
      libssh2_sftp_read(h, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count)
    }
    guard n >= 0 else { throw sftp.error(n, "cannot read", path: path) }
    sftp.session.context.channelReceived(n)
    return n
  }

  /// The corresponding C function is `libssh2_sftp_close_handle`.
  func close(deadline: Deadline?) throws(SSHError) {
    guard let h = handle else { return }
    sftp.session.context.countRoundTrip()
    handle = nil
    let rc = try sftp.session.retry(deadline) { libssh2_sftp_close_handle(h) }
    guard rc == 0 else { throw sftp.error(Int(rc), "cannot close", path: path) }
  }
}
