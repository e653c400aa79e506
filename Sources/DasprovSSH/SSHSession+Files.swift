import CLibSSH2
import DasprovCore
import DasprovShell
import Foundation

// Files: atomic uploads (exec or SFTP), downloads, stat, readlink, symlink, mkdir -p.
extension SSHSession {
  public func upload(
    _ source: UploadSource, to remotePath: String, mode: UInt16?, owner: String?, group: String?,
    become: Bool?, method: UploadMethod
  ) throws(SSHError) -> UploadResult {
    let useSudo = become ?? self.become
    let size: Int
    switch source {
    case .data(let d): size = d.count
    case .file(let path, _):
      guard let attrs = try? FileManager.default.attributesOfItem(atPath: path), let n = attrs[.size] as? NSNumber else {
        throw SSHError(.localFile, host: host, "cannot read \(path)")
      }
      size = n.intValue
    }
    var chosen = method
    if chosen == .auto { chosen = .exec }
    if chosen == .sftp && useSudo {
      throw SSHError(.invalidArgument, host: host, "SFTP cannot write as another user; under become use the exec method")
    }
    let plan = UploadPlan(destination: remotePath, mode: mode, owner: owner, group: group)
    return try withSession { (link) throws(SSHError) in
      chosen == .exec
        ? try uploadExec(source, size: size, plan: plan, become: useSudo, in: link.session)
        : try uploadSFTP(source, size: size, plan: plan, in: link)
    }
  }

  /// One exec channel: the data on stdin, then a line with its sha256 (hashed chunk by chunk
  /// as it is sent); the remote script writes `head -c SIZE > tmp`, hashes the file, compares,
  /// sets mode and owner, fsyncs and renames. One round trip. If the stream is cut, `head` ends
  /// short, the checksum line is missing, and the script deletes the temp file.
  private func uploadExec(_ source: UploadSource, size: Int, plan: UploadPlan, become: Bool, in s: Session) throws(SSHError) -> UploadResult {
    let known = source.knownSHA256
    var hasher = known == nil ? SHA256() : nil
    var reader = InputReader(source.execInput)
    var sent = 0
    var trailerSent = false
    let stdin = ExecInput.stream { () throws(SSHError) -> Data? in
      if let chunk = try reader.next() {
        let take = chunk.prefix(size - sent)
        sent += take.count
        if !take.isEmpty {
          hasher?.update(take)
          return take
        }
      }
      if trailerSent { return nil }
      guard sent == size else {
        throw SSHError(.localFile, host: self.host, "the local file changed size during upload (\(sent) of \(size) bytes)")
      }
      trailerSent = true
      return Data(((known ?? hasher?.finalizeHex() ?? "") + "\n").utf8)
    }
    let program = plan.program(streamSize: size, expectedSHA256: nil, host: host)
    let result = try run(Self.scriptLine(program.text, become: become), in: s, stdin: stdin, timeout: nil, output: .buffer(limit: 1 << 16))
    return try plan.finish(result, host: host, bytes: size, method: .exec)
  }

  /// SFTP: open the temp file, stream pipelined writes from a bounded buffer, close; then one
  /// exec checks the sha256, sets mode/owner, fsyncs and renames (SFTP v3 rename cannot replace).
  private func uploadSFTP(_ source: UploadSource, size: Int, plan: UploadPlan, in link: Link) throws(SSHError) -> UploadResult {
    let s = link.session
    let sftp = try link.sftp()
    let file = try sftp.open(
      plan.temporary, flags: LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, mode: 0o600, deadline: nil)
    s.context.countRoundTrip()  // the data stream
    let known = source.knownSHA256
    var hasher = known == nil ? SHA256() : nil
    var reader = InputReader(source.execInput)
    // Bounded memory: a 4 MiB window of not-yet-acknowledged bytes. libssh2 keeps up to that
    // much in flight as 30 000-byte SFTP writes.
    let capacity = 4 << 20
    var buffer = [UInt8](repeating: 0, count: capacity)
    var filled = 0, acked = 0, total = 0
    var pending = Data()
    var sourceDone = false
    while true {
      // Refill once at least a quarter is free, moving the unacknowledged bytes to the front.
      if !sourceDone && capacity - (filled - acked) >= capacity / 4 {
        if acked > 0 {
          buffer.withUnsafeMutableBytes { raw in
            raw.baseAddress!.copyMemory(from: raw.baseAddress! + acked, byteCount: filled - acked)
          }
          filled -= acked
          acked = 0
        }
        while filled < capacity {
          if pending.isEmpty {
            guard let next = try reader.next() else { sourceDone = true; break }
            pending = next
            hasher?.update(next)
          }
          let n = min(pending.count, capacity - filled)
          let slice = pending.prefix(n)
          buffer.withUnsafeMutableBytes { raw in
            slice.withUnsafeBytes { src in
              (raw.baseAddress! + filled).copyMemory(from: src.baseAddress!, byteCount: n)
            }
          }
          filled += n
          total += n
          pending = pending.dropFirst(n)
          if pending.isEmpty { pending = Data() }
        }
      }
      if acked == filled {
        if sourceDone { break }
        continue
      }
      let written = buffer.withUnsafeBytes { raw in
        Result { () throws(SSHError) in try file.write(UnsafeRawBufferPointer(rebasing: raw[acked..<filled]), deadline: nil) }
      }
      acked += try written.get()
    }
    try file.close(deadline: nil)
    let program = plan.program(streamSize: nil, expectedSHA256: known ?? hasher?.finalizeHex() ?? "", host: host)
    let result = try run(Self.scriptLine(program.text, become: false), in: s, stdin: .none, timeout: nil, output: .buffer(limit: 1 << 16))
    return try plan.finish(result, host: host, bytes: total, method: .sftp)
  }

  public func download(_ remotePath: String, become: Bool?, maxBytes: Int) throws(SSHError) -> Data {
    if become ?? self.become {
      return try withSession { (link) throws(SSHError) in
        let line = Self.commandLine(RemoteCommand("cat", "--", remotePath), become: true)
        let result = try run(line, in: link.session, stdin: .none, timeout: nil, output: .buffer(limit: maxBytes))
          .checked(host: host, command: line)
        if result.stdoutTruncated { throw tooLarge(remotePath, maxBytes) }
        return result.stdout
      }
    }
    return try withSession { (link) throws(SSHError) in
      let file = try link.sftp().open(remotePath, flags: LIBSSH2_FXF_READ, mode: 0, deadline: nil)
      link.session.context.countRoundTrip()  // the data stream
      var out = Data()
      var buffer = [UInt8](repeating: 0, count: 1 << 20)
      while true {
        let read = buffer.withUnsafeMutableBytes { raw in
          Result { () throws(SSHError) in try file.read(into: raw, deadline: nil) }
        }
        let n = try read.get()
        if n == 0 { break }
        if out.count + n > maxBytes { throw tooLarge(remotePath, maxBytes) }
        out.append(contentsOf: buffer.prefix(n))
      }
      try file.close(deadline: nil)
      return out
    }
  }

  private func tooLarge(_ path: String, _ max: Int) -> SSHError {
    SSHError(.invalidArgument, host: host, "\(path) is larger than \(max) bytes")
  }

  public func stat(_ remotePath: String, followSymlinks: Bool, become: Bool?) throws(SSHError) -> RemoteFileInfo? {
    guard become ?? self.become else {
      return try withSession { (link) throws(SSHError) in try link.sftp().stat(remotePath, follow: followSymlinks, deadline: nil) }
    }
    // SFTP runs as the login user; as root, ask stat(1): raw mode in hex, uid, gid, size, mtime.
    let out = try withSession { (link) throws(SSHError) in
      try runChecked(Self.scriptLine(filesProgram("stat_path", [remotePath, followSymlinks ? "1" : "0"]).text, become: true), in: link.session)
    }.stdoutText
    let fields = out.split(whereSeparator: \.isWhitespace)
    if fields == ["missing"] { return nil }
    guard fields.count == 5, let raw = UInt32(fields[0], radix: 16), let uid = UInt32(fields[1]),
      let gid = UInt32(fields[2]), let size = UInt64(fields[3]), let mtime = Int64(fields[4])
    else { throw SSHError(.internalError, host: host, "unexpected stat output for \(remotePath): \(out)") }
    return RemoteFileInfo(rawMode: raw, uid: uid, gid: gid, size: size, mtime: mtime)
  }

  public func readlink(_ remotePath: String, become: Bool?) throws(SSHError) -> String {
    guard become ?? self.become else {
      return try withSession { (link) throws(SSHError) in try link.sftp().readlink(remotePath, deadline: nil) }
    }
    let line = Self.commandLine(RemoteCommand("readlink", "--", remotePath), become: true)
    var out = try withSession { (link) throws(SSHError) in try runChecked(line, in: link.session) }.stdoutText
    if out.hasSuffix("\n") { out.removeLast() }
    return out
  }

  /// `path` becomes a symlink to `target`; with `replace`, an existing one is swapped atomically
  /// (atomic.sh's routine, as the apply program does it).
  public func symlink(target: String, at path: String, replace: Bool, become: Bool?) throws(SSHError) {
    let line = Self.scriptLine(filesProgram("link_path", [target, path, replace ? "1" : "0"]).text, become: become ?? self.become)
    _ = try withSession { (link) throws(SSHError) in try runChecked(line, in: link.session) }
  }

  public func mkdirP(_ remotePath: String, mode: UInt16?, become: Bool?) throws(SSHError) {
    let line: String =
      mode == nil
      ? Self.commandLine(RemoteCommand("mkdir", "-p", "--", remotePath), become: become ?? self.become)
      : Self.scriptLine(
        filesProgram("make_directory", [remotePath, mode.map { String($0, radix: 8) } ?? ""]).text, become: become ?? self.become)
    _ = try withSession { (link) throws(SSHError) in try runChecked(line, in: link.session) }
  }

  /// `files.sh` with one step.
  private func filesProgram(_ function: String, _ arguments: [String]) -> ShellProgram {
    var program = ShellProgram("files.sh")
    program.set("HOST", host)
    program.step(function, arguments)
    return program
  }
}

extension UploadSource {
  var execInput: ExecInput {
    switch self {
    case .data(let d): .data(d)
    case .file(let p, _): .file(p)
    }
  }
}
