import DasprovCore
import DasprovShell
import DasprovTasks
import Foundation
import Testing

@testable import DasprovEngine

/// The remote programs as hosts receive them, for fixed inputs, kept in Golden/ and reviewed
/// in diffs. `make goldens` rewrites them after an intended change; CI runs shellcheck on them.
@Suite struct GoldenProgramTests {
  static let directory: String = {
    var url = URL(fileURLWithPath: #filePath)
    url.deleteLastPathComponent()
    return url.path + "/Golden"
  }()

  static var cases: [(String, ShellProgram)] {
    let requests = [
      FactRequest("/opt/wso2das-3.1.0/repository/conf/carbon.xml", [.stat, .hash, .content]),
      FactRequest("/opt/wso2das", [.stat]),
      FactRequest("/opt/it's here/$(x)", [.stat, .hash]),
      FactRequest("/opt/wso2das-3.1.0/repository/deployment/server/carbonapps", [.stat, .listing]),
    ]
    let probes = [ProbeRequest(["test", "-x", "/usr/bin/mysql"]), ProbeRequest(["mysql", "-e", "SHOW DATABASES"], capture: true)]
    let changes: [Change] = [
      .write(path: "/opt/wso2das-3.1.0/repository/conf/carbon.xml", content: Array("<Server>\n  <Offset>0</Offset>\n</Server>\n".utf8), mode: nil, owner: nil, group: nil),
      .upload(path: "/opt/wso2das-3.1.0/repository/components/lib/mysql-connector.jar", localPath: "/tmp/c.jar", size: 1024, sha256: String(repeating: "ab", count: 32), mode: 0o644, owner: "wso2", group: "wso2"),
      .symlink(path: "/opt/wso2das", target: "/opt/wso2das-3.1.0"),
      .makeDirectory(path: "/opt/wso2das-3.1.0/repository/deployment/server/carbonapps", mode: 0o755, owner: nil, group: nil),
      .setAttributes(path: "/opt/it's here", mode: 0o640, owner: "wso2", group: nil),
      .remove(path: "/opt/wso2das-3.1.0/repository/deployment/server/carbonapps/Old.car", recursive: false, backup: true),
      .run(argv: ["mysql", "--batch"], chdir: "/tmp", stdin: Array("CREATE DATABASE regdb;\n".utf8), label: "create databases"),
      .run(argv: ["touch", "/tmp/ran $(x)"], chdir: nil),
    ]
    let restart = RestartSpec(
      pidFile: "/opt/wso2das/wso2carbon.pid", stop: ["/opt/wso2das/bin/wso2server.sh", "stop"],
      start: ["/opt/wso2das/bin/wso2server.sh", "start", "-receiverNode"], port: 9443, address: "10.0.0.5",
      logFile: "/opt/wso2das/repository/logs/wso2carbon.log", logLine: "WSO2 Carbon started", timeoutSeconds: 300)
    return [
      ("facts", FactProgram(requests: requests, probes: probes, records: true, endMarker: "@end-1-2-3-4").program),
      ("facts-addresses", FactProgram(requests: [], probes: [], addresses: true, endMarker: "@end-1-2-3-4").program),
      ("facts-contents", FactProgram(contentsOf: [requests[0].path, "/opt/it's here/$(x)"], endMarker: "@end-1-2-3-4").program),
      (
        "apply",
        ApplyProgram(
          changes: changes, runID: "20261204T120000000Z", notify: ["restart"], stagingDirectory: "/var/lib/dasprov/staging",
          hostName: "host1", records: [(0x0123_4567_89ab_cdef, FileRecord(key: .of([1]), output: .of([2])))]
        ).program
      ),
      ("restart", RestartProgram(handler: "restart", spec: restart).program),
      ("command-handler", CommandHandlerProgram(handler: "reload", argv: ["systemctl", "reload", "it's"]).program),
      ("rollback", RollbackProgram().program),
      ("database-check", DatabaseCheckProgram(host: "db1", port: 3306, user: "das", password: "pw\"with\\quotes", databases: ["userdb", "regdb"], timeoutSeconds: 5).program),
    ]
  }

  @Test func theRenderedProgramsAreTheGoldenFiles() throws {
    let update = ProcessInfo.processInfo.environment["DASPROV_UPDATE_GOLDENS"] == "1"
    for (name, program) in Self.cases {
      let path = "\(Self.directory)/\(name).sh"
      if update {
        try program.text.write(toFile: path, atomically: true, encoding: .utf8)
        continue
      }
      let golden = try? String(contentsOfFile: path, encoding: .utf8)
      #expect(golden == program.text, "\(name).sh differs from what \(program.name) renders: review, then run 'make goldens'")
    }
  }
}
