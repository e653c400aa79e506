import DasprovCore
import DasprovTasks
import Foundation

/// The POSIX `sh` scripts dasprov sends to hosts, and the parsers for what they print.
///
/// Each script is one exec: the fact script gathers everything a host's plan needs, the apply
/// script makes every change of the host, a restart script restarts and health-checks one node.
/// Values are quoted with `shellQuoted` only; file contents travel base64-encoded in here-documents,
/// so no byte of a config file is ever interpreted by the shell.
public enum RemoteScripts {
  /// Files larger than this are hashed but not fetched for editing or diffing.
  public static let contentLimit = 1 << 20

  /// Sets `S`, the host's dasprov state directory: pending-restart markers, backup manifests,
  /// staged uploads. Root uses /var/lib/dasprov; other users a directory in their home;
  /// `DASPROV_STATE_DIR` (the inventory's `dasprov_state_dir`) overrides both. The effective
  /// UID comes from /proc with shell built-ins: `$(id -u)` would cost a fork on every script.
  static let statePrologue = """
    LC_ALL=C; export LC_ALL
    if [ -n "${DASPROV_STATE_DIR:-}" ]; then S=$DASPROV_STATE_DIR
    else
      dp_u=; while read -r dp_k dp_r dp_e dp_x; do [ "$dp_k" = Uid: ] && { dp_u=$dp_e; break; }; done 2>/dev/null </proc/self/status
      [ -n "$dp_u" ] || dp_u=$(id -u)
      if [ "$dp_u" = 0 ]; then S=/var/lib/dasprov; else S="${HOME:-/tmp}/.local/state/dasprov"; fi
    fi
    """

  // MARK: - Facts

  /// The fact script: one exec per host that reports the OS, pending restarts, and what the plan
  /// needs about every path — in a handful of processes whatever the number of paths (one
  /// `find` for types, modes, owners, sizes and link targets; one `sha256sum`; one `cat` for
  /// every file edited on the controller), since forks, not bytes, are what cost time here.
  ///
  /// Binary sections (NUL-separated names, file contents, probe output) come raw, each ended by
  /// a line holding `end`: a marker drawn at random for each script, which no file on the host
  /// can contain by chance. Raw, not base64: no encoder process per section on the host, no
  /// decoding here, a third fewer bytes.
  public static func factScript(
    requests: [FactRequest], probes: [ProbeRequest], addresses: Bool = false, end: String = randomEndMarker()
  ) -> String {
    var s = ShellScript()
    s.raw("#!/bin/sh")
    s.raw("# dasprov: gather facts (read-only)")
    s.raw(statePrologue)
    s.raw("E=\(end.shellQuoted); printf '@raw %s\\n' \"$E\"")
    s.raw("printf '@state %s\\n' \"$S\"")
    s.raw("f=/etc/os-release; [ -r \"$f\" ] || f=/usr/lib/os-release")
    s.raw("printf '@os\\n'; while IFS= read -r l || [ -n \"$l\" ]; do printf '%s\\n' \"$l\"; done < \"$f\" 2>/dev/null; printf '@end\\n'")
    s.raw("h=; read -r h < /proc/sys/kernel/hostname 2>/dev/null || h=$(uname -n); printf '@hostname %s\\n' \"$h\"")
    s.raw("printf '@user %s\\n' \"${USER:-${LOGNAME:-$(id -un)}}\"")
    if addresses { s.raw("printf '@addresses %s\\n' \"$(hostname -I 2>/dev/null)\"") }
    s.raw("printf '@pending\\n'; for f in \"$S\"/pending/*; do [ -e \"$f\" ] && printf '%s\\n' \"${f##*/}\"; done; printf '@end\\n'")
    // Ends a raw section: a newline (the section may not end with one), then the marker line.
    let close = "printf '\\n%s\\n' \"$E\""
    let all = requests.map(\.path.shellQuoted).joined(separator: " ")
    if !requests.isEmpty {
      // %y type (f d l …), %m mode, %u %g owner, %s size, %l link target; NUL-separated, so any
      // byte in a name is safe. Missing paths print nothing (the error goes to /dev/null).
      s.raw("printf '@find\\n'; find \(all) -maxdepth 0 -printf '%p\\0%y\\0%m\\0%u\\0%g\\0%s\\0%l\\0' 2>/dev/null; \(close)")
    }
    let hashed = requests.filter { $0.needs.contains(.hash) }.map(\.path.shellQuoted).joined(separator: " ")
    if !hashed.isEmpty {
      // Plain sha256sum (not -z, which coreutils before 8.27 lacks): names with a backslash or a
      // newline come escaped, on a line that starts with a backslash.
      s.raw("printf '@sha\\n'; sha256sum -- \(hashed) 2>/dev/null; \(close)")
    }
    let read = requests.filter { $0.needs.contains(.content) }.map(\.path.shellQuoted).joined(separator: " ")
    if !read.isEmpty {
      s.raw("printf '@cat\\n'; cat -- \(read) 2>/dev/null | head -c \(contentLimit * 16); \(close)")
    }
    for (i, r) in requests.enumerated() where r.needs.contains(.listing) {
      s.raw("printf '@list \(i)\\n'; find \(r.path.shellQuoted) -mindepth 1 -type f -printf '%P\\0' 2>/dev/null; \(close)")
    }
    s.raw(
      """
      pr() { i=$1; shift; ( "$@" ) </dev/null >/dev/null 2>&1; printf '@probe %s %s\\n' "$i" "$?"; }
      prc() { i=$1; shift; printf '@probeout %s\\n' "$i"; ( "$@" ) </dev/null 2>/dev/null; st=$?; \(close); printf '@probe %s %s\\n' "$i" "$st"; }
      """)
    for (i, p) in probes.enumerated() {
      s.raw((p.capture ? "prc \(i) " : "pr \(i) ") + p.argv.map(\.shellQuoted).joined(separator: " "))
    }
    s.raw("printf '@done\\n'")
    return s.text
  }

  /// A fresh end marker for a fact script's raw sections.
  public static func randomEndMarker() -> String {
    var g = SystemRandomNumberGenerator()
    return "@end-" + (0..<4).map { _ in String(g.next() as UInt32, radix: 16) }.joined(separator: "-")
  }

  public struct FactParseError: Error, CustomStringConvertible {
    public var description: String
  }

  /// Parses the fact script's output. The requests and probes must be the ones the script was
  /// built from (contents and listings are matched to them by order and index).
  public static func parseFacts(_ output: [UInt8], requests: [FactRequest], probes: [ProbeRequest]) throws(FactParseError) -> (HostFacts, stateDirectory: String) {
    // Byte-wise: most of the output is file contents, which needs no Unicode handling; only
    // the short lines become Strings.
    var facts = HostFacts()
    var state = "/var/lib/dasprov"
    var reader = FactReader(output)
    var sawDone = false
    var osRelease: [String: String] = [:]
    var shaByPath: [String: String] = [:]
    var catBytes: [UInt8]?
    for r in requests { facts.paths[r.path] = .missing }
    func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
    while let line = reader.line() {
      let fields = FactLine(line)
      switch fields.tag {
      case "@raw": reader.end = Array(fields.first)
      case "@state": state = text(line.dropFirst(7))
      case "@os":
        for l in reader.linesUntilEnd() {
          guard let eq = l.firstIndex(of: "=") else { continue }
          var value = String(l[l.index(after: eq)...])
          if value.count >= 2, value.first == "\"" || value.first == "'", value.last == value.first {
            value = String(value.dropFirst().dropLast())
          }
          osRelease[String(l[..<eq])] = value
        }
      case "@hostname": facts.hostname = text(line.dropFirst(10))
      case "@user": facts.user = text(line.dropFirst(6))
      case "@addresses":
        facts.addresses = text(line.dropFirst(11)).split(separator: " ").map(String.init)
      case "@pending":
        facts.pendingHandlers += reader.linesUntilEnd().filter { !$0.isEmpty }
      case "@find":
        let fields = try reader.raw(after: line).split(separator: 0, omittingEmptySubsequences: false).map {
          String(decoding: $0, as: UTF8.self)
        }
        var k = 0
        while k + 7 <= fields.count {
          let f = fields[k..<(k + 7)].map { $0 }
          k += 7
          let type: PathFacts.FileType
          switch f[1] {
          case "f": type = .file
          case "d": type = .directory
          case "l": type = .symlink
          default: type = .other
          }
          facts.paths[f[0]] = PathFacts(
            type: type, mode: Int(f[2], radix: 8), owner: f[3], group: f[4], size: Int(f[5]),
            linkTarget: type == .symlink ? f[6] : nil)
        }
      case "@sha":
        // "HASH  NAME" per line; a line starting with a backslash has an escaped name.
        for record in try reader.raw(after: line).split(separator: UInt8(ascii: "\n")) {
          var r = String(decoding: record, as: UTF8.self)
          let escaped = r.hasPrefix("\\")
          if escaped { r.removeFirst() }
          guard r.count > 66 else { continue }
          var name = String(r.dropFirst(66))
          if escaped { name = unescapeChecksumName(name) }
          shaByPath[name] = String(r.prefix(64))
        }
      case "@cat":
        catBytes = Array(try reader.raw(after: line))
      case "@list":
        let index = try indexed(fields, requests.count, line)
        let raw = try reader.raw(after: line)
        facts.paths[requests[index].path]?.entries = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.sorted()
      case "@probe":
        let index = try indexed(fields, probes.count, line)
        facts.probes[probes[index].argv] = Int32(text(fields.rest ?? [])) ?? 1
      case "@probeout":
        let index = try indexed(fields, probes.count, line)
        facts.probeOutputs[probes[index].argv] = Array(try reader.raw(after: line))
      case "@done": sawDone = true
      default: continue
      }
    }
    guard sawDone else { throw FactParseError(description: "the fact script did not finish (no @done)") }
    for (path, sha) in shaByPath where facts.paths[path]?.type == .file { facts.paths[path]?.sha256 = sha }
    if let catBytes {
      // `cat` wrote the regular files among the content requests, in order; their sizes come
      // from `find`. A mismatch means a file changed while we looked: contents are not trusted.
      let readable = requests.filter { $0.needs.contains(.content) && facts.paths[$0.path]?.type == .file }
      let sizes = readable.map { facts.paths[$0.path]?.size ?? 0 }
      if sizes.reduce(0, +) == catBytes.count {
        var offset = 0
        for (r, size) in zip(readable, sizes) {
          if size <= contentLimit { facts.paths[r.path]?.content = Array(catBytes[offset..<(offset + size)]) }
          offset += size
        }
      } else {
        throw FactParseError(description: "files changed while their contents were read (or one is unreadable); run again")
      }
    }
    facts.osID = osRelease["ID"] ?? ""
    facts.osLike = (osRelease["ID_LIKE"] ?? "").split(separator: " ").map(String.init)
    facts.osVersion = osRelease["VERSION_ID"] ?? ""
    facts.osPrettyName = osRelease["PRETTY_NAME"] ?? facts.osID
    return (facts, state)
  }

  /// Undoes sha256sum's escaping of a file name (`\\\\` and `\\n`).
  static func unescapeChecksumName(_ s: String) -> String {
    var out = ""
    var it = s.makeIterator()
    while let c = it.next() {
      guard c == "\\", let n = it.next() else { out.append(c); continue }
      out.append(n == "n" ? "\n" : n)
    }
    return out
  }

  /// Reads the fact script's output: lines, and raw sections ended by the script's marker.
  struct FactReader {
    let bytes: [UInt8]
    var position = 0
    /// The end marker, from the script's `@raw` line.
    var end: [UInt8] = []

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The next line, without its newline; nil at the end of the output.
    mutating func line() -> ArraySlice<UInt8>? {
      guard position < bytes.count else { return nil }
      let stop = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
      defer { position = min(stop + 1, bytes.count) }
      return bytes[position..<stop]
    }

    /// The bytes up to the next "\n" + marker + "\n", which it steps over.
    mutating func raw(after header: ArraySlice<UInt8>) throws(FactParseError) -> ArraySlice<UInt8> {
      let tail = [UInt8(ascii: "\n")] + end + [UInt8(ascii: "\n")]
      guard !end.isEmpty, let found = bytes[position...].firstRange(of: tail) else {
        throw FactParseError(description: "the fact script's output ended inside '\(String(decoding: header.prefix(40), as: UTF8.self))'")
      }
      defer { position = found.upperBound }
      return bytes[position..<found.lowerBound]
    }

    /// The lines up to the next `@end` line, which it steps over.
    mutating func linesUntilEnd() -> [String] {
      var out: [String] = []
      while let raw = line() {
        let l = String(decoding: raw, as: UTF8.self)
        if l == "@end" { break }
        out.append(l)
      }
      return out
    }
  }

  /// A fact line split at its first two spaces: `@tag first rest`, as byte slices.
  struct FactLine {
    var tag: String
    var first: ArraySlice<UInt8>
    var rest: ArraySlice<UInt8>?

    init(_ line: ArraySlice<UInt8>) {
      let space = UInt8(ascii: " ")
      guard let a = line.firstIndex(of: space) else {
        tag = String(decoding: line, as: UTF8.self)
        first = []
        return
      }
      tag = String(decoding: line[..<a], as: UTF8.self)
      let after = line[(a + 1)...]
      if let b = after.firstIndex(of: space) {
        first = after[..<b]
        rest = after[(b + 1)...]
      } else {
        first = after
      }
    }
  }

  private static func indexed(_ fields: FactLine, _ count: Int, _ line: ArraySlice<UInt8>) throws(FactParseError) -> Int {
    guard let i = Int(String(decoding: fields.first, as: UTF8.self)), i >= 0, i < count else {
      throw FactParseError(description: "unexpected fact line: \(String(decoding: line.prefix(80), as: UTF8.self))")
    }
    return i
  }

  // MARK: - Apply

  /// The script that makes all of a host's changes, in order, each file atomically, with a
  /// backup of every file it replaces and a manifest so `rollback` can undo the run.
  ///
  /// Pending-restart markers are written first: if the run dies half-way, the next apply still
  /// restarts the node even though its files then look unchanged.
  public static func applyScript(changes: [Change], runID: String, notify: [String], stagingDirectory: String, hostName: String) -> String {
    var s = ShellScript()
    s.raw("#!/bin/sh")
    s.raw("# dasprov: apply changes, run \(runID)")
    s.raw(statePrologue)
    s.raw("umask 022")
    s.set("RUN", runID)
    s.set("HOST", hostName)
    s.raw(
      """
      fail() { printf '@fail %s %s\\n' "$1" "$2"; [ -n "${T:-}" ] && rm -f -- "$T"; exit 1; }
      mkdir -p -- "$S/pending" "$S/backups" || fail -1 "cannot create the state directory $S"
      M="$S/backups/$RUN.manifest"
      bk() {
        grep -qxF -- "path $1" "$M" 2>/dev/null && return 0
        if [ -e "$1" ] || [ -L "$1" ]; then
          if [ -f "$1" ] && [ ! -L "$1" ]; then
            cp -p -- "$1" "$1.dasprov-$RUN.bak" || fail "$2" "cannot back up $1"
            printf 'path %s\\nbackup %s\\n' "$1" "$1.dasprov-$RUN.bak" >> "$M"
            ls -1d -- "$1".dasprov-*.bak 2>/dev/null | sort -r | tail -n +6 | while IFS= read -r old; do rm -f -- "$old"; done
          elif [ -L "$1" ]; then
            printf 'path %s\\nlink %s\\n' "$1" "$(readlink -- "$1")" >> "$M"
          else
            printf 'path %s\\nkept\\n' "$1" >> "$M"
          fi
        else
          printf 'path %s\\nabsent\\n' "$1" >> "$M"
        fi
      }
      indir() { [ -d "$(dirname -- "$1")" ] || fail "$2" "directory $(dirname -- "$1") does not exist on host $HOST"; }
      tmpin() { indir "$1" "$2"; T=$(mktemp -- "$(dirname -- "$1")/.$(basename -- "$1").dasprov-tmp-XXXXXX") || fail "$2" "cannot create a temporary file beside $1"; }
      attrs() {
        if [ -n "$3" ]; then chmod "$3" -- "$T" || fail "$2" "cannot set mode on $1"
        elif [ -e "$1" ]; then chmod --reference="$1" -- "$T" 2>/dev/null; fi
        if [ -n "$4$5" ]; then chown -- "$4${5:+:$5}" "$T" || fail "$2" "cannot set owner of $1"
        elif [ -e "$1" ]; then chown --reference="$1" -- "$T" 2>/dev/null; fi
        return 0
      }
      commit() { sync -- "$T" 2>/dev/null || sync; mv -f -- "$T" "$1" || fail "$2" "cannot rename the new $1 into place"; T=; printf '@done %s\\n' "$2"; }
      """)
    for h in notify { s.raw(": > \"$S/pending/\"\(h.shellQuoted) || fail -1 \"cannot record a pending restart\"") }
    if !notify.isEmpty { s.raw("printf 'notify %s\\n' \(notify.map(\.shellQuoted).joined(separator: " ")) >> \"$M\"") }
    for (i, change) in changes.enumerated() {
      switch change {
      case .write(let path, let content, let mode, let owner, let group):
        let p = path.shellQuoted
        s.raw("bk \(p) \(i); tmpin \(p) \(i)")
        let marker = "DASPROV_\(i)_" + String(SHA256.hex(content).prefix(16))
        s.raw("base64 -d > \"$T\" <<'\(marker)' || fail \(i) \"cannot write \"\(p)\" (disk full?)\"")
        s.raw(wrappedBase64(content))
        s.raw(marker)
        s.raw("attrs \(p) \(i) \(modeArg(mode)) \((owner ?? "").shellQuoted) \((group ?? "").shellQuoted); commit \(p) \(i)")
      case .upload(let path, _, _, let sha, let mode, let owner, let group):
        let p = path.shellQuoted
        let staged = (stagingDirectory + "/" + sha).shellQuoted
        s.raw("bk \(p) \(i); tmpin \(p) \(i)")
        s.raw("cp -- \(staged) \"$T\" || fail \(i) \"cannot copy the staged upload for \"\(p)")
        s.raw("[ \"$(sha256sum < \"$T\" | cut -c1-64)\" = \(sha) ] || fail \(i) \"checksum mismatch for \"\(p)")
        s.raw("attrs \(p) \(i) \(modeArg(mode)) \((owner ?? "").shellQuoted) \((group ?? "").shellQuoted); commit \(p) \(i); rm -f -- \(staged)")
      case .symlink(let path, let target):
        let p = path.shellQuoted
        s.raw("indir \(p) \(i); bk \(p) \(i); T=\"$(dirname -- \(p))/.$(basename -- \(p)).dasprov-link-$$\"")
        s.raw("ln -sfn -- \(target.shellQuoted) \"$T\" && mv -fT -- \"$T\" \(p) || fail \(i) \"cannot link \"\(p)")
        s.raw("T=; printf '@done %s\\n' \(i)")
      case .makeDirectory(let path, let mode, let owner, let group):
        let p = path.shellQuoted
        s.raw("mkdir -p -- \(p) || fail \(i) \"cannot create directory \"\(p)")
        if let mode { s.raw("chmod \(String(mode, radix: 8)) -- \(p) || fail \(i) \"cannot chmod \"\(p)") }
        if owner != nil || group != nil {
          s.raw("chown -- \((owner ?? "") + (group.map { ":" + $0 } ?? "")).shellQuoted) \(p) || fail \(i) \"cannot chown \"\(p)")
        }
        s.raw("printf '@done %s\\n' \(i)")
      case .setAttributes(let path, let mode, let owner, let group):
        let p = path.shellQuoted
        if let mode { s.raw("chmod \(String(mode, radix: 8)) -- \(p) || fail \(i) \"cannot chmod \"\(p)") }
        if owner != nil || group != nil {
          s.raw("chown -- \((owner ?? "") + (group.map { ":" + $0 } ?? "")).shellQuoted) \(p) || fail \(i) \"cannot chown \"\(p)")
        }
        s.raw("printf '@done %s\\n' \(i)")
      case .remove(let path, let recursive, let backup):
        let p = path.shellQuoted
        if backup && !recursive { s.raw("bk \(p) \(i)") }
        s.raw("rm -f\(recursive ? "r" : "") -- \(p) || fail \(i) \"cannot remove \"\(p)")
        s.raw("printf '@done %s\\n' \(i)")
      case .run(let argv, let chdir, let stdin, _):
        let cd = chdir.map { "cd -- \($0.shellQuoted) && " } ?? ""
        if let stdin {
          // The input travels inside this script, so it never appears in the remote process list.
          let marker = "DASPROV_IN_\(i)_" + String(SHA256.hex(stdin).prefix(16))
          s.raw("base64 -d <<'\(marker)' | ( \(cd)exec \(RemoteCommand(argv).shellLine) ) >&2 || fail \(i) \"command exited with status $?\"")
          s.raw(wrappedBase64(stdin))
          s.raw(marker)
        } else {
          s.raw("( \(cd)exec \(RemoteCommand(argv).shellLine) ) </dev/null >&2 || fail \(i) \"command exited with status $?\"")
        }
        s.raw("printf '@done %s\\n' \(i)")
      }
    }
    s.raw("printf '@applied\\n'")
    return s.text
  }

  /// A script as `-vvv` shows it: the base64 here-documents (file contents, SQL) become one line
  /// each. The masker cannot see a secret through base64, and `--diff` shows contents readably.
  public static func forDisplay(_ script: String) -> String {
    var out: [Substring] = []
    var marker: Substring?
    var hidden = 0
    for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
      if let m = marker {
        if line != m {
          hidden += 1
          continue
        }
        out.append("[\(hidden) lines of base64 not shown]")
        marker = nil
      }
      out.append(line)
      if let open = line.range(of: "<<'DASPROV_"), !line.hasSuffix("<<'DASPROV_MYCNF'") {
        marker = line[line.index(open.lowerBound, offsetBy: 3)...].prefix { $0 != "'" }
        hidden = 0
      }
    }
    return out.joined(separator: "\n")
  }

  static func modeArg(_ mode: Int?) -> String { mode.map { String($0, radix: 8) } ?? "''" }

  static func wrappedBase64(_ bytes: [UInt8]) -> String {
    let encoded = Data(bytes).base64EncodedString()
    if encoded.isEmpty { return "" }
    var lines: [Substring] = []
    var rest = Substring(encoded)
    while !rest.isEmpty {
      lines.append(rest.prefix(76))
      rest = rest.dropFirst(76)
    }
    return lines.joined(separator: "\n")
  }

  /// What the apply script reported: the indices of the changes it completed, and the failure.
  public struct ApplyReport: Sendable {
    public var done: Set<Int> = []
    public var failure: (index: Int, message: String)?
    public var finished = false
  }

  public static func parseApply(_ output: [UInt8]) -> ApplyReport {
    var report = ApplyReport()
    for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
      if line.hasPrefix("@done "), let i = Int(line.dropFirst(6)) { report.done.insert(i) }
      if line == "@applied" { report.finished = true }
      if line.hasPrefix("@fail ") {
        let rest = line.dropFirst(6)
        let parts = rest.split(separator: " ", maxSplits: 1).map(String.init)
        report.failure = (Int(parts.first ?? "") ?? -1, parts.count > 1 ? parts[1] : "failed")
      }
    }
    return report
  }

  // MARK: - Restart

  /// Restarts one node and waits until it is healthy, all on the host, in one exec.
  ///
  /// Health means: the old PID is gone; the port is closed once the old process has exited (a
  /// port that never closed proves nothing) and open again; and the start-up line appears in
  /// the log *after* the restart began. On success the pending marker is removed.
  public static func restartScript(handler: String, spec: RestartSpec) -> String {
    var s = ShellScript()
    s.raw("#!/bin/sh")
    s.raw("# dasprov: health-gated restart")
    s.raw(statePrologue)
    s.set("H", handler)
    s.set("PIDFILE", spec.pidFile ?? "")
    s.set("LOG", spec.logFile ?? "")
    s.set("LINE", spec.logLine ?? "")
    s.set("ADDR", spec.address)
    s.set("PORT", spec.port.map(String.init) ?? "")
    s.set("TIMEOUT", String(spec.timeoutSeconds))
    s.raw(
      """
      fail() { printf '@fail %s\\n' "$1"; exit 1; }
      now() { date +%s; }
      begin=$(now); deadline=$((begin + TIMEOUT))
      expired() { [ "$(now)" -ge "$deadline" ]; }
      port_open() {
        if command -v bash >/dev/null 2>&1; then
          bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$ADDR" "$PORT" 2>/dev/null
        else
          hex=$(printf '%04X' "$PORT"); grep -q ":$hex [0-9A-F:]* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
        fi
      }
      old=""; [ -n "$PIDFILE" ] && [ -f "$PIDFILE" ] && old=$(cat -- "$PIDFILE" 2>/dev/null)
      logsize=0; [ -n "$LOG" ] && [ -f "$LOG" ] && logsize=$(stat -c %s -- "$LOG")
      printf '@begin %s old=%s\\n' "$begin" "${old:-none}"
      """)
    if let stop = spec.stop {
      s.raw("if [ -n \"$old\" ] && kill -0 \"$old\" 2>/dev/null; then")
      s.raw("  \(RemoteCommand(stop).shellLine) </dev/null >>\"$S/last-restart.log\" 2>&1 || fail \"the stop command failed with status $?\"")
      s.raw("fi")
    } else {
      s.raw("[ -n \"$old\" ] && kill -TERM \"$old\" 2>/dev/null")
    }
    s.raw(
      """
      if [ -n "$old" ]; then
        while kill -0 "$old" 2>/dev/null; do expired && fail "the old process $old did not exit within ${TIMEOUT}s"; sleep 0.1; done
      fi
      printf '@stopped\\n'
      if [ -n "$PORT" ]; then
        while port_open; do expired && fail "port $PORT on $ADDR stayed open after the old process exited (another process holds it?)"; sleep 0.1; done
      fi
      mkdir -p -- "$S"
      """)
    s.raw("\(RemoteCommand(spec.start).shellLine) </dev/null >>\"$S/last-restart.log\" 2>&1 || fail \"the start command failed with status $? (see $S/last-restart.log)\"")
    s.raw(
      """
      printf '@started\\n'
      if [ -n "$PORT" ]; then
        until port_open; do expired && fail "port $PORT on $ADDR did not open within ${TIMEOUT}s"; sleep 0.1; done
        printf '@port-open\\n'
      fi
      if [ -n "$LOG" ]; then
        while :; do
          if [ -f "$LOG" ]; then
            size=$(stat -c %s -- "$LOG"); from=$((logsize + 1)); [ "$size" -lt "$logsize" ] && from=1
            tail -c +"$from" -- "$LOG" | grep -qF -- "$LINE" && break
          fi
          expired && fail "'$LINE' did not appear in $LOG within ${TIMEOUT}s"
          sleep 0.1
        done
        printf '@log-line\\n'
      fi
      rm -f -- "$S/pending/$H"
      printf '@healthy %s\\n' "$(( $(now) - begin ))"
      """)
    return s.text
  }

  /// Runs a `command` handler and clears its pending marker when it succeeds.
  public static func commandHandlerScript(handler: String, argv: [String]) -> String {
    var s = ShellScript()
    s.raw("#!/bin/sh")
    s.raw(statePrologue)
    s.raw("\(RemoteCommand(argv).shellLine) </dev/null >&2 || { printf '@fail %s\\n' \"command exited with status $?\"; exit 1; }")
    s.raw("rm -f -- \"$S/pending/\"\(handler.shellQuoted)")
    s.raw("printf '@healthy 0\\n'")
    return s.text
  }

  // MARK: - Rollback

  /// Restores the files of the newest backup manifest and marks its handlers pending.
  public static func rollbackScript() -> String {
    var s = ShellScript()
    s.raw("#!/bin/sh")
    s.raw("# dasprov: roll back the last applied run")
    s.raw(statePrologue)
    s.raw(
      """
      M=$(ls -1 "$S/backups/"*.manifest 2>/dev/null | sort | tail -n 1)
      [ -n "$M" ] || { printf '@nothing\\n'; exit 0; }
      printf '@manifest %s\\n' "$(basename "$M" .manifest)"
      mkdir -p -- "$S/pending"
      p=
      while IFS= read -r line; do
        key=${line%% *}; val=${line#* }
        case "$key" in
          path) p=$val ;;
          backup) T="$(dirname -- "$p")/.$(basename -- "$p").dasprov-tmp-rb$$"
                  cp -p -- "$val" "$T" && mv -f -- "$T" "$p" && printf '@restored %s\\n' "$p" || { printf '@fail cannot restore %s\\n' "$p"; exit 1; } ;;
          link) T="$(dirname -- "$p")/.$(basename -- "$p").dasprov-link-rb$$"
                ln -sfn -- "$val" "$T" && mv -fT -- "$T" "$p" && printf '@restored %s\\n' "$p" ;;
          absent) rm -f -- "$p" && printf '@removed %s\\n' "$p" ;;
          notify) for h in $val; do : > "$S/pending/$h"; printf '@notify %s\\n' "$h"; done ;;
        esac
      done < "$M"
      mv -f -- "$M" "$M.rolled-back"
      printf '@rolled-back\\n'
      """)
    return s.text
  }
}

extension RemoteScripts {
  /// A pre-flight database check on a DAS node: TCP to the server, then — when a `mysql` client
  /// is installed — a login as the DAS user and every database visible. The password goes into a
  /// mode-0600 option file created inside this script (never a command-line argument) and
  /// removed before the script ends.
  public static func databaseCheckScript(host: String, port: Int, user: String, password: String, databases: [String], timeout: Int) -> String {
    var s = ShellScript()
    s.raw("#!/bin/sh")
    s.raw("# dasprov: pre-flight database check")
    s.set("H", host)
    s.set("P", String(port))
    s.set("U", user)
    s.set("TO", String(timeout))
    s.set("DBS", databases.joined(separator: " "))
    s.raw(
      """
      fail() { printf '@fail %s\\n' "$1"; exit 1; }
      if command -v bash >/dev/null 2>&1; then
        timeout "$TO" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$H" "$P" 2>/dev/null || fail "cannot reach the database at $H:$P (TCP)"
      elif command -v nc >/dev/null 2>&1; then
        nc -z -w "$TO" "$H" "$P" || fail "cannot reach the database at $H:$P (TCP)"
      fi
      printf '@tcp-ok\\n'
      command -v mysql >/dev/null 2>&1 || { printf '@no-client\\n@ok\\n'; exit 0; }
      T=$(umask 077; mktemp) || fail "cannot create a temporary option file"
      trap 'rm -f -- "$T"' EXIT
      cat > "$T" <<'DASPROV_MYCNF'
      """)
    s.raw("[client]\nuser=\"\(optionValue(user))\"\npassword=\"\(optionValue(password))\"\nconnect-timeout=\(timeout)")
    s.raw("DASPROV_MYCNF")
    s.raw(
      """
      out=$(mysql --defaults-extra-file="$T" -h "$H" -P "$P" --protocol=TCP --batch --skip-column-names -e 'SHOW DATABASES' 2>&1) || fail "login as $U to $H:$P failed: $(printf '%s' "$out" | tail -n 1)"
      for d in $DBS; do printf '%s\\n' "$out" | grep -qxF -- "$d" || fail "database $d is not visible to $U on $H:$P"; done
      printf '@login-ok\\n@ok\\n'
      """)
    return s.text
  }

  /// A value for a MySQL option file, inside double quotes: one line whatever it holds. A raw
  /// newline would end the value there (and a line reading DASPROV_MYCNF would end the
  /// here-document, and the rest of the value would run as shell); the option file's own
  /// escapes keep every character.
  static func optionValue(_ value: String) -> String {
    var out = ""
    for ch in value.unicodeScalars {
      switch ch {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default: out.unicodeScalars.append(ch)
      }
    }
    return out
  }
}
