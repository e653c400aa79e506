import DasprovCore
import DasprovShell
import Foundation

/// The remote half of an atomic upload: the temporary name, and `upload.sh` (Programs/), which
/// checks the sha256, gives the file its mode and owner, fsyncs it and renames it over the
/// destination with the same routine (`atomic.sh`) as every other file dasprov writes.
///
/// The destination is only ever replaced by `rename(2)` (`mv -fT`) of a complete, verified temp
/// file in the same directory, so an interrupted upload leaves it untouched; at worst a
/// `.<name>.dasprov-tmp-<random>` file remains, and the script removes even that when it can.
struct UploadPlan {
  let destination: String
  let mode: UInt16?
  let owner: String?
  let group: String?
  let temporary: String

  init(destination: String, mode: UInt16?, owner: String?, group: String?) {
    self.destination = destination
    self.mode = mode
    self.owner = owner
    self.group = group
    temporary = Self.temporaryName(for: destination)
  }

  /// `.<name>.dasprov-tmp-<12 hex>` next to `path`; the name part is shortened so the result
  /// stays under the 255-byte file name limit.
  static func temporaryName(for path: String) -> String {
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { String(path[...$0]) } ?? ""
    var name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    while name.utf8.count > 200 { name.removeLast() }
    let random = (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    return dir + "." + name + ".dasprov-tmp-" + random
  }

  /// `upload.sh` with this upload's parameters. With `streamSize`, the data arrives on stdin
  /// followed by a line holding its sha256 (the exec method); with `expectedSHA256`, the temp
  /// file is already written (the SFTP method).
  func program(streamSize: Int?, expectedSHA256: String?, host: String) -> ShellProgram {
    var p = ShellProgram("upload.sh")
    p.set("D", destination)
    p.set("TMP", temporary)
    p.set("HOST", host)
    p.set("MODE", mode.map { String($0, radix: 8) } ?? "")
    p.set("OWNER", owner ?? "")
    p.set("GROUP", group ?? "")
    if let streamSize {
      p.set("SIZE", String(streamSize))
    } else {
      p.set("WANT", expectedSHA256 ?? "")
    }
    return p
  }

  /// The upload's result, or `SSHError.commandFailed` with what the script said.
  func finish(_ result: ExecResult, host: String, bytes: Int, method: UploadMethod) throws(SSHError) -> UploadResult {
    guard result.succeeded else {
      let tail = result.stderrTail()
      throw SSHError(
        .commandFailed(status: result.status, signal: result.signal), host: host,
        "upload to \(destination) failed" + (tail.isEmpty ? " (exit status \(result.status))" : ": " + tail))
    }
    let sum = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    return UploadResult(sha256: sum, bytes: bytes, method: method)
  }
}
