import DasprovCore
import DasprovTasks
import DasprovSSH
import Foundation

/// `dasprov facts`: the fact round trip alone, on every host at once.
public enum FactsGatherer {
  public enum Result: Sendable {
    case success(HostFacts)
    case failure(String)
  }

  public static func gather(_ hosts: [HostSpec], connector: Connector, forks: Int) -> [Result] {
    SSHPool.run(hosts, forks: forks) { host in
      do {
        let connection = try connector.connect(host)
        defer { connection.close() }
        let program = FactProgram(requests: [], probes: [], addresses: true)
        let output = try connection.runScript(program.program.text, timeout: 60)
        return .success(try program.parse(output.stdout).facts)
      } catch {
        return .failure("\(error)")
      }
    }
  }
}
