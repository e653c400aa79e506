import DasprovCore
import DasprovTasks
import Synchronization
import Testing

@testable import DasprovEngine

/// Each host's one fact round trip also answers what other hosts' plans ask of it, and runs
/// once whichever worker asks first.
@Suite struct FactRoundsTests {
  let db = HostSpec(name: "db1", vars: [:], groups: ["mysql"])
  let das = HostSpec(name: "das1", vars: [:], groups: ["das"])

  func world(_ hosts: [HostSpec]) -> World {
    let project = Project(root: "/", playbook: "/site.dasp", plays: [], modules: [:], restartOrder: nil, globals: [])
    return World(hosts: hosts, groupMembers: [:], project: project, selectHosts: { _ in [] })
  }

  /// The db host's needs: its own probe, and the schema from das1.
  var dbNeeds: FactNeedsSummary {
    var needs = FactNeedsSummary()
    needs.add(ProbeRequest(["mysql", "--execute", "select 1"], capture: true))
    needs.add(FactRequest(host: "das1", path: "/das/mysql.sql", needs: [.stat, .content]), of: "das1")
    return needs
  }

  /// das1's own needs: a file it edits.
  var dasNeeds: FactNeedsSummary {
    var needs = FactNeedsSummary()
    needs.add(FactRequest("/das/conf/carbon.xml", [.stat, .content]))
    return needs
  }

  /// Answers every requested path as a small file, and records what each round trip asked.
  final class FakeHosts: Sendable {
    let asked = Mutex<[String: [[String]]]>([:])

    func gather(_ host: HostSpec, _ needs: FactNeedsSummary) -> Result<FactRounds.Gathered, FactRounds.Failure> {
      asked.withLock { $0[host.name, default: []].append(needs.requests.map(\.path).sorted()) }
      var facts = HostFacts(hostname: host.name)
      for r in needs.requests { facts.paths[r.path] = PathFacts(type: .file, content: Array(r.path.utf8)) }
      return .success(FactRounds.Gathered(facts: facts, stateDirectory: "/var/lib/dasprov"))
    }
  }

  @Test func aPeersRequestsRideInItsOwnRoundTripWhichRunsOnce() throws {
    let hosts = FakeHosts()
    let rounds = FactRounds(targets: [(db, dbNeeds), (das, dasNeeds)], world: world([db, das]), gather: hosts.gather)
    // The db host's worker gets there first and runs das1's round trip; das1's own worker then
    // takes the whole answer instead of asking again.
    let shared = try rounds.shared("das1").get()
    #expect(Array(shared.paths.keys) == ["/das/mysql.sql"], "only what was asked leaves das1's answer")
    let own = try rounds.own(das).get()
    #expect(own.facts.paths.keys.sorted() == ["/das/conf/carbon.xml", "/das/mysql.sql"])
    _ = try rounds.own(db).get()
    #expect(try rounds.shared("das1").get().paths.keys.sorted() == ["/das/mysql.sql"])
    #expect(hosts.asked.withLock { $0 } == ["das1": [["/das/conf/carbon.xml", "/das/mysql.sql"]], "db1": [[]]])
  }

  @Test func aPeerOutsideTheRunIsAskedOnlyForWhatOthersNeed() throws {
    let hosts = FakeHosts()
    let rounds = FactRounds(targets: [(db, dbNeeds)], world: world([db, das]), gather: hosts.gather)
    #expect(try rounds.shared("das1").get().paths.keys.sorted() == ["/das/mysql.sql"])
    #expect(try rounds.shared("das1").get().hostname == "das1")
    #expect(hosts.asked.withLock { $0 } == ["das1": [["/das/mysql.sql"]]])
  }

  @Test func anUnreachablePeerIsReportedToWhoeverAsks() {
    let rounds = FactRounds(targets: [(db, dbNeeds), (das, dasNeeds)], world: world([db, das])) { host, _ in
      host.name == "das1" ? .failure(.unreachable(ConnectError(.unreachable, "connection refused"))) : .success(.init(facts: HostFacts(), stateDirectory: "/s"))
    }
    guard case .failure(.unreachable(let why)) = rounds.shared("das1") else {
      Issue.record("das1 answered")
      return
    }
    #expect(why.message == "connection refused")
    guard case .failure(.unreachable) = rounds.own(das) else {
      Issue.record("das1's own worker did not learn it is unreachable")
      return
    }
  }

  @Test func requestsForThePlannedHostItselfStayInItsOwnRoundTrip() {
    var needs = FactNeedsSummary()
    needs.add(FactRequest("/a", [.stat]))
    needs.add(FactRequest("/a", [.content]))
    needs.add(FactRequest(host: "das1", path: "/b", needs: [.stat]), of: "das1")
    needs.add(FactRequest(host: "das1", path: "/b", needs: [.content]), of: "das1")
    #expect(needs.requests == [FactRequest("/a", [.stat, .content])])
    #expect(needs.peers == ["das1": [FactRequest("/b", [.stat, .content])]])
  }
}
