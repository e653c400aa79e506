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
        let output = try connection.runScript(RemoteScripts.factScript(requests: [], probes: [], addresses: true), timeout: 60)
        return .success(try RemoteScripts.parseFacts(output.stdout, requests: [], probes: []).0)
      } catch {
        return .failure("\(error)")
      }
    }
  }
}
