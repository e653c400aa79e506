import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

#if canImport(Glibc)
  import Glibc
#endif

func localStat(_ path: String) -> stat? {
  var st = stat()
  return lstat(path, &st) == 0 ? st : nil
}

func fileBytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

func pattern(_ count: Int, seed: Int = 1) -> Data {
  var bytes = [UInt8](repeating: 0, count: count)
  var x = UInt32(truncatingIfNeeded: seed &* 2_654_435_761 | 1)
  for i in bytes.indices {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5
    bytes[i] = UInt8(truncatingIfNeeded: x)
  }
  return Data(bytes)
}

/// Files over the reused session: atomic uploads by both methods, modes and owners, become,
/// literal paths, stat/readlink/symlink/mkdir, and interrupted uploads.
@Suite struct FileTests {
  static let session: SSHSession = try! SSHSession.connect(SSHD.shared.options())
  static let weird = "dir with spaces/ünïcödé $(touch PWNED) `touch PWNED2` 'single' \"double\" ;&|<>*?"

  @Test(arguments: [UploadMethod.exec, .sftp])
  func uploadCreatesAndReplacesAtomically(_ method: UploadMethod) throws {
    let dir = TestWorld.shared.remoteDir("up-\(method)")
    let dest = dir + "/file.conf"
    let first = try Self.session.upload(.data(Data("one\n".utf8)), to: dest, mode: nil, owner: nil, group: nil, become: nil, method: method)
    #expect(first.method == method)
    #expect(first.sha256 == SHA256.hex(Array("one\n".utf8)))
    #expect(fileBytes(dest) == Data("one\n".utf8))
    // New files get 0666 & ~umask, like any file the user creates.
    #expect(localStat(dest).map { $0.st_mode & 0o7777 } == 0o644)
    #expect(localStat(dest)?.st_uid == TestWorld.shared.uid)
    // Replacing keeps the old mode.
    chmod(dest, 0o751)
    let data = pattern(3_000_000)
    let second = try Self.session.upload(.data(data), to: dest, mode: nil, owner: nil, group: nil, become: nil, method: method)
    #expect(second.bytes == data.count)
    #expect(fileBytes(dest) == data)
    #expect(localStat(dest).map { $0.st_mode & 0o7777 } == 0o751)
    // An explicit mode wins; no temp file is left behind.
    _ = try Self.session.upload(.data(Data()), to: dest, mode: 0o600, owner: nil, group: nil, become: nil, method: method)
    #expect(fileBytes(dest) == Data())
    #expect(localStat(dest).map { $0.st_mode & 0o7777 } == 0o600)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["file.conf"])
  }

  @Test(arguments: [UploadMethod.auto, .sftp])
  func largeFileStreamsFromDisk(_ method: UploadMethod) throws {
    let local = TestWorld.shared.localDir("big") + "/pack.zip"
    let data = pattern(12_000_000, seed: 9)
    _ = FileManager.default.createFile(atPath: local, contents: data)
    let dest = TestWorld.shared.remoteDir("big") + "/pack.zip"
    let r = try Self.session.upload(.file(local), to: dest, mode: nil, owner: nil, group: nil, become: nil, method: method)
    #expect(r.method == (method == .auto ? .exec : .sftp))
    #expect(r.sha256 == SHA256.hex(data))
    #expect(fileBytes(dest) == data)
  }

  @Test(arguments: [UploadMethod.exec, .sftp])
  func aKnownDigestIsCheckedNotRecomputed(_ method: UploadMethod) throws {
    let local = TestWorld.shared.localDir("known") + "/pack.zip"
    let data = pattern(300_000, seed: 11)
    _ = FileManager.default.createFile(atPath: local, contents: data)
    let dir = TestWorld.shared.remoteDir("known-\(method)")
    let dest = dir + "/pack.zip"
    let right = SHA256.hex(data)
    let r = try Self.session.upload(.file(local, sha256: right.uppercased()), to: dest, mode: nil, owner: nil, group: nil, become: nil, method: method)
    #expect(r.sha256 == right)
    #expect(fileBytes(dest) == data)
    // A wrong digest (the file changed since it was hashed) is refused; the old file stays.
    let error = try #require(throws: SSHError.self) {
      try Self.session.upload(.file(local, sha256: String(repeating: "0", count: 64)), to: dest, mode: nil, owner: nil, group: nil, become: nil, method: method)
    }
    #expect(error.message.contains("checksum mismatch"))
    #expect(fileBytes(dest) == data)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["pack.zip"])
  }

  @Test func replacedFileKeepsItsOwnerUnderBecome() throws {
    let dir = TestWorld.shared.remoteDir("owner")
    let dest = dir + "/owned"
    _ = FileManager.default.createFile(atPath: dest, contents: Data("x".utf8))
    chown(dest, 65534, 65534)
    chmod(dest, 0o640)
    _ = try Self.session.upload(.data(Data("y".utf8)), to: dest, become: true)
    let st = try #require(localStat(dest))
    #expect(st.st_uid == 65534 && st.st_gid == 65534)
    #expect(st.st_mode & 0o7777 == 0o640)
    #expect(fileBytes(dest) == Data("y".utf8))
  }

  @Test func replacingAFileOfAnotherOwnerWithoutBecomeFailsAndKeepsIt() throws {
    let dir = TestWorld.shared.remoteDir("foreign")
    let dest = dir + "/foreign"
    _ = FileManager.default.createFile(atPath: dest, contents: Data("keep".utf8))
    chown(dest, 65534, 65534)
    let error = try #require(throws: SSHError.self) { try Self.session.upload(.data(Data("new".utf8)), to: dest) }
    #expect(error.message.contains("cannot keep the owner (65534:65534)"))
    #expect(fileBytes(dest) == Data("keep".utf8))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["foreign"])
  }

  @Test func uploadIntoAMissingDirectorySaysSo() throws {
    let dest = TestWorld.shared.remoteDir("missing-parent") + "/not-here/file.conf"
    let error = try #require(throws: SSHError.self) {
      try Self.session.upload(.data(Data("x".utf8)), to: dest, mode: nil, owner: nil, group: nil, become: nil, method: .exec)
    }
    #expect(error.message.contains("does not exist on host"), "\(error.message)")
    #expect(!FileManager.default.fileExists(atPath: dest))
  }

  @Test func becomeWritesARootOwnedFileWithTheIntendedMode() throws {
    let dir = TestWorld.shared.localDir("rootdir")  // owned by root: the login user cannot write here
    chmod(dir, 0o755)
    let dest = dir + "/secret.xml"
    let r = try Self.session.upload(.data(Data("<a/>".utf8)), to: dest, mode: 0o640, owner: "root", group: TestWorld.user, become: true, method: .auto)
    #expect(r.method == .exec)
    let st = try #require(localStat(dest))
    #expect(st.st_uid == 0)
    #expect(st.st_gid == TestWorld.shared.gid)
    #expect(st.st_mode & 0o7777 == 0o640)
    #expect(fileBytes(dest) == Data("<a/>".utf8))
    // Without become the same write is refused, and the file stays.
    #expect(throws: SSHError.self) { try Self.session.upload(.data(Data("x".utf8)), to: dest) }
    #expect(fileBytes(dest) == Data("<a/>".utf8))
    #expect(try Self.session.stat(dest, become: true)?.uid == 0)
    #expect(try Self.session.download(dest, become: true) == Data("<a/>".utf8))
  }

  @Test func pathsWithShellMetacharactersAreLiteral() throws {
    let base = TestWorld.shared.remoteDir("weird")
    let dir = base + "/" + Self.weird
    try Self.session.mkdirP(dir, mode: 0o750)
    #expect(localStat(dir).map { $0.st_mode & 0o7777 } == 0o750)
    let file = dir + "/ñame with 'quotes' and $(x).txt"
    for method in [UploadMethod.exec, .sftp] {
      _ = try Self.session.upload(.data(Data("hi \(method)".utf8)), to: file, mode: nil, owner: nil, group: nil, become: nil, method: method)
      #expect(fileBytes(file) == Data("hi \(method)".utf8))
      #expect(try Self.session.download(file) == Data("hi \(method)".utf8))
    }
    let info = try #require(try Self.session.stat(file))
    #expect(info.kind == .regular)
    #expect(info.size == UInt64("hi sftp".utf8.count))
    let link = dir + "/link `x` $(y)"
    try Self.session.symlink(target: file, at: link)
    #expect(try Self.session.readlink(link) == file)
    #expect(try Self.session.lstat(link)?.kind == .symlink)
    #expect(try Self.session.stat(link)?.kind == .regular)
    #expect(try Self.session.lstat(link, become: true)?.kind == .symlink)
    #expect(try Self.session.readlink(link, become: true) == file)
    let pwned = ["PWNED", "PWNED2", "x", "y"].filter {
      FileManager.default.fileExists(atPath: base + "/" + $0)
        || FileManager.default.fileExists(atPath: "/home/\(TestWorld.user)/" + $0)
    }
    #expect(pwned.isEmpty)
  }

  @Test func symlinkReplaceIsAtomicEvenOverALinkToADirectory() throws {
    let dir = TestWorld.shared.remoteDir("links")
    try Self.session.mkdirP(dir + "/v1")
    try Self.session.mkdirP(dir + "/v2")
    try Self.session.symlink(target: dir + "/v1", at: dir + "/current")
    #expect(throws: SSHError.self) { try Self.session.symlink(target: dir + "/v2", at: dir + "/current", replace: false) }
    try Self.session.symlink(target: dir + "/v2", at: dir + "/current", replace: true)
    #expect(try Self.session.readlink(dir + "/current") == dir + "/v2")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/v1").isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["current", "v1", "v2"])
  }

  @Test func statReportsTypeModeOwnerSizeAndTime() throws {
    let dir = TestWorld.shared.remoteDir("stat")
    let path = dir + "/f"
    _ = FileManager.default.createFile(atPath: path, contents: Data(count: 1234))
    chmod(path, 0o4754)
    let st = try #require(localStat(path))
    for become in [false, true] {
      let info = try #require(try Self.session.stat(path, become: become))
      #expect(info == RemoteFileInfo(kind: .regular, mode: 0o4754, uid: 0, gid: 0, size: 1234, mtime: Int64(st.st_mtim.tv_sec)))
      #expect(try Self.session.stat(dir + "/missing", become: become) == nil)
      #expect(try Self.session.stat(dir, become: become)?.kind == .directory)
    }
  }

  @Test func downloadOfAMissingFileNamesTheSFTPStatus() throws {
    let error = try #require(throws: SSHError.self) { try Self.session.download("/nonexistent/dasprov") }
    #expect(error.kind == .sftp(status: 2))
    #expect(error.message.contains("no such file"))
  }
}
