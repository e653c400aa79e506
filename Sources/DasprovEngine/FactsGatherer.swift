import DasprovCore
import DasprovTasks
import Foundation

/// `dasprov facts`: the fact round trip alone, on every host at once.
public enum FactsGatherer {
  public enum Result: Sendable {
    case success(HostFacts)
    case failure(String)
  }

  public static func gather(_ hosts: [HostSpec], connector: Connector, forks: Int) -> [Result] {
    let results = Locked<[Result?]>(Array(repeating: nil, count: hosts.count))
    ThreadPool.run(count: hosts.count, limit: forks) { i in
      let result: Result
      do {
        let connection = try connector.connect(hosts[i])
        defer { connection.close() }
        let output = try connection.runScript(RemoteScripts.factScript(requests: [], probes: [], addresses: true), timeout: 60)
        result = .success(try RemoteScripts.parseFacts(output.stdout, requests: [], probes: []).0)
      } catch {
        result = .failure("\(error)")
      }
      results.withLock { $0[i] = result }
    }
    return results.current.map { $0! }
  }
}
