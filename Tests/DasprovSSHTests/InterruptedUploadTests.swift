import DasprovCore
import Foundation
import Testing

@testable import DasprovSSH

#if canImport(Glibc)
  import Glibc
#endif

/// sshd killed in the middle of a large upload: the destination must still be the old file,
/// byte for byte; only a `.name.dasprov-tmp-*` file may remain.
@Suite struct InterruptedUploadTests {
  @Test(arguments: [UploadMethod.sftp, .exec])
  func killedMidUploadLeavesTheOldFileIntact(_ method: UploadMethod) throws {
    let sshd = try SSHD()
    defer { sshd.stop() }
    let dir = TestWorld.shared.remoteDir("killed-\(method)")
    let dest = dir + "/pack.zip"
    let old = pattern(100_000, seed: 3)
    _ = FileManager.default.createFile(atPath: dest, contents: old)
    let local = TestWorld.shared.localDir("killed") + "/pack.zip"
    _ = FileManager.default.createFile(atPath: local, contents: pattern(40_000_000, seed: 4))

    let session = try SSHSession.connect(sshd.options())
    defer { session.close() }
    let outcome = SSHPool.run([0, 1], forks: 2) { role -> String in
      if role == 0 {
        do {
          _ = try session.upload(.file(local), to: dest, mode: nil, owner: nil, group: nil, become: nil, method: method)
          return "finished"
        } catch {
          return "\(error)"
        }
      }
      // Wait until the temp file holds a few MB, then kill sshd: listener and session processes.
      let deadline = Date().addingTimeInterval(30)
      while Date() < deadline {
        let temps = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.contains(".dasprov-tmp-") } ?? []
        if let t = temps.first, let st = localStat(dir + "/" + t), st.st_size > 3_000_000 {
          sshd.kill(signal: SIGKILL)
          return "killed at \(st.st_size)"
        }
        usleep(2_000)
      }
      return "never saw the temp file grow"
    }
    #expect(outcome[1].hasPrefix("killed at"), "\(outcome[1])")
    #expect(outcome[0] != "finished")
    #expect(outcome[0].contains("disconnected") || outcome[0].contains("failed") || outcome[0].contains("libssh2"), "\(outcome[0])")
    // The session knows it is broken and says so at once.
    let again = try #require(throws: SSHError.self) { try session.exec(RemoteCommand("true")) }
    #expect(again.kind == .disconnected)
    // Give an orphaned remote script (exec method) a moment to notice the short stream.
    usleep(300_000)
    #expect(fileBytes(dest) == old)
    let others = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "pack.zip" }
    #expect(others.allSatisfy { $0.hasPrefix(".pack.zip.dasprov-tmp-") }, "\(others)")
  }
}
