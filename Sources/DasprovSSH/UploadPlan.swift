import DasprovCore
import Foundation

/// The remote half of an atomic upload: the temporary name, and the script that checks the
/// sha256, gives the file its mode and owner, fsyncs it and renames it over the destination.
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

  /// `chown` argument: `owner`, `owner:group` or `:group`; empty to keep the replaced file's.
  var ownerSpec: String {
    switch (owner, group) {
    case (let o?, let g?): "\(o):\(g)"
    case (let o?, nil): o
    case (nil, let g?): ":\(g)"
    case (nil, nil): ""
    }
  }

  /// With `streamSize`, the data arrives on stdin followed by a line holding its sha256 (the
  /// exec method); with `expectedSHA256`, the temp file is already written (the SFTP method).
  func script(streamSize: Int?, expectedSHA256: String?) -> ShellScript {
    var s = ShellScript()
    s.set("d", destination)
    s.set("t", temporary)
    s.set("m", mode.map { String($0, radix: 8) } ?? "")
    s.set("own", ownerSpec)
    s.raw("u=$(umask)")
    s.raw("umask 077")
    s.raw(#"fail() { rc=$1; shift; rm -f -- "$t"; printf 'dasprov: %s\n' "$*" >&2; exit "$rc"; }"#)
    s.raw(#"if [ -d "$d" ] && [ ! -L "$d" ]; then fail 96 "$d is a directory"; fi"#)
    // OpenSSL uses the CPU's SHA instructions: ≈ 4× faster than coreutils' sha256sum here.
    s.raw("if command -v openssl >/dev/null 2>&1; then digest() { openssl dgst -sha256 -r; }; else digest() { sha256sum; }; fi")
    if let size = streamSize {
      s.set("n", String(size))
      // GNU head -c never reads past SIZE bytes, so the checksum line stays on stdin for read.
      s.raw(#"head -c "$n" > "$t" || fail 95 "cannot write $t""#)
      s.raw("IFS= read -r want || want=")
    } else {
      s.set("want", expectedSHA256 ?? "")
    }
    // Hash what is in the file after the transfer (from the page cache: cheap).
    s.raw(#"got=$(digest < "$t") || fail 95 "cannot read back $t""#)
    s.raw(#"got=${got%% *}"#)
    s.raw(#"[ "$got" = "$want" ] || fail 97 "checksum mismatch: sent ${want:-nothing}, wrote $got (transfer interrupted?)""#)
    s.raw(#"if [ -n "$m" ]; then chmod -- "$m" "$t""#)
    s.raw(#"elif [ -e "$d" ]; then chmod -- "$(stat -L -c %a -- "$d")" "$t""#)
    s.raw(#"else chmod -- "$(printf %o $((0666 & ~0$u)))" "$t"; fi || fail 94 "cannot set the mode of $t""#)
    s.raw(#"if [ -n "$own" ]; then chown -- "$own" "$t" || fail 94 "cannot change the owner of $t to $own""#)
    s.raw(#"elif [ -e "$d" ]; then o=$(stat -L -c %u:%g -- "$d") && { [ "$o" = "$(stat -c %u:%g -- "$t")" ] || chown -- "$o" "$t"; } || fail 94 "cannot keep the owner ($o) of $d: run with become""#)
    s.raw("fi")
    s.raw(#"sync -- "$t" 2>/dev/null || sync"#)
    s.raw(#"mv -fT -- "$t" "$d" || fail 93 "cannot rename $t to $d""#)
    s.raw(#"printf '%s\n' "$got""#)
    return s
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
