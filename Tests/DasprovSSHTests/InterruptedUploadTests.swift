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
  struct Observation: Sendable {
    var upload: String
    var killer: String
    var afterwards: SSHError.Kind?
    var destination: Data?
    var others: [String]
  }

  @Test(arguments: [UploadMethod.sftp, .exec])
  func killedMidUploadLeavesTheOldFileIntact(_ method: UploadMethod) async throws {
    let old = pattern(100_000, seed: 3)
    let seen = try await onThread { () -> Observation in
      let sshd = try SSHD()
      defer { sshd.stop() }
      let dir = TestWorld.shared.remoteDir("killed-\(method)")
      let dest = dir + "/pack.zip"
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
      // The session knows it is broken and says so at once.
      var afterwards: SSHError.Kind?
      do { _ = try session.exec(RemoteCommand("true")) } catch let e as SSHError { afterwards = e.kind }
      // Give an orphaned remote script (exec method) a moment to notice the short stream.
      usleep(300_000)
      let others = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0 != "pack.zip" }
      return Observation(upload: outcome[0], killer: outcome[1], afterwards: afterwards, destination: fileBytes(dest), others: others)
    }
    #expect(seen.killer.hasPrefix("killed at"), "\(seen.killer)")
    #expect(seen.upload != "finished")
    #expect(seen.upload.contains("disconnected") || seen.upload.contains("failed") || seen.upload.contains("libssh2"), "\(seen.upload)")
    #expect(seen.afterwards == .disconnected)
    #expect(seen.destination == old)
    #expect(seen.others.allSatisfy { $0.hasPrefix(".pack.zip.dasprov-tmp-") }, "\(seen.others)")
  }
}
