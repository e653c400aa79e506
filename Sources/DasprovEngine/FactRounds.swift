import DasprovCore
import DasprovTasks
import Synchronization

/// What planning one host needs, worked out from the project and inventory alone, before any
/// host is contacted: every host's needs are known before the first fact round trip, so each
/// host's one round trip also answers what other hosts' plans ask of it.
struct HostPreparation: Sendable {
  let planner: HostPlanner
  let instances: [TaskInstance]
  let needs: FactNeedsSummary
}

/// Every host's one fact round trip, run once per run by whichever worker needs it first: the
/// host's own, or that of a host whose plan needs a file of it (the MySQL host loading a DAS
/// node's schema). The round trip gathers the host's own needs and every request other hosts'
/// plans route to it.
final class FactRounds: Sendable {
  /// One host's answer: its facts and the state directory its scripts use.
  struct Gathered: Sendable {
    var facts: HostFacts
    var stateDirectory: String
    /// What dasprov last wrote on the host (nil when not read).
    var records: HostRecords?
  }

  /// Why a host's facts are missing.
  enum Failure: Error, Sendable {
    /// The host could not be connected to.
    case unreachable(ConnectError)
    /// Connected, but the fact script failed or its output did not parse.
    case failed(String)
  }

  /// One host's round trip. Its mutex is held while the round trip runs, so a second worker
  /// asking for it waits for the answer instead of asking again.
  private final class Round: Sendable {
    struct State {
      /// The facts other hosts asked for (only those paths), once gathered.
      var shared: Result<HostFacts, Failure>?
      /// The whole answer when another host's worker ran the round trip first, kept until the
      /// host's own worker takes it.
      var unclaimed: Result<Gathered, Failure>?
    }

    let host: HostSpec
    let needs: FactNeedsSummary
    /// The paths other hosts asked for.
    let sharedPaths: Set<String>
    let ownWorker: Bool
    let state = Mutex(State())

    init(host: HostSpec, needs: FactNeedsSummary, sharedPaths: Set<String>, ownWorker: Bool) {
      self.host = host
      self.needs = needs
      self.sharedPaths = sharedPaths
      self.ownWorker = ownWorker
    }
  }

  private let rounds: [String: Round]
  private let gather: @Sendable (HostSpec, FactNeedsSummary) -> Result<Gathered, Failure>

  /// - Parameters:
  ///   - targets: the hosts of the run, each with what its own plan needs (nil when preparing
  ///     it failed: then its round trip carries only what others ask of it).
  ///   - world: resolves the other hosts that plans ask for, targets of the run or not.
  ///   - gather: runs one round trip on a host.
  init(
    targets: [(HostSpec, FactNeedsSummary?)], world: World,
    gather: @escaping @Sendable (HostSpec, FactNeedsSummary) -> Result<Gathered, Failure>
  ) {
    var needs: [String: FactNeedsSummary] = [:]
    var routed: [String: [FactRequest]] = [:]
    for (host, own) in targets {
      needs[host.name] = own ?? FactNeedsSummary()
      for (peer, requests) in own?.peers ?? [:] { routed[peer, default: []] += requests }
    }
    var rounds: [String: Round] = [:]
    let targetNames = Set(targets.map(\.0.name))
    for host in targets.map(\.0) + routed.keys.sorted().compactMap(world.host) where rounds[host.name] == nil {
      var summary = needs[host.name] ?? FactNeedsSummary()
      summary.add(routed: routed[host.name] ?? [])
      rounds[host.name] = Round(
        host: host, needs: summary, sharedPaths: Set((routed[host.name] ?? []).map(\.path)),
        ownWorker: targetNames.contains(host.name))
    }
    self.rounds = rounds
    self.gather = gather
  }

  /// The host's facts for its own plan, gathered now unless another host's worker already did.
  func own(_ host: HostSpec) -> Result<Gathered, Failure> {
    guard let round = rounds[host.name] else { return .failure(.failed("internal: no fact round trip for \(host.name)")) }
    return round.state.withLock { state in
      if let unclaimed = state.unclaimed {
        state.unclaimed = nil
        return unclaimed
      }
      let result = gather(round.host, round.needs)
      state.shared = result.map { Self.restricted($0.facts, to: round.sharedPaths) }
      return result
    }
  }

  /// What other hosts asked of `name`, gathered now unless its round trip already ran.
  func shared(_ name: String) -> Result<HostFacts, Failure> {
    guard let round = rounds[name] else { return .failure(.failed("internal: no fact round trip for \(name)")) }
    return round.state.withLock { state in
      if let shared = state.shared { return shared }
      let result = gather(round.host, round.needs)
      let shared = result.map { Self.restricted($0.facts, to: round.sharedPaths) }
      state.shared = shared
      // The host's own worker still comes for the whole answer; others never do.
      if round.ownWorker { state.unclaimed = result }
      return shared
    }
  }

  /// Only the paths other hosts asked for: a host's whole facts hold the contents of every file
  /// it edits, and other hosts' workers keep what they get until they are planned.
  private static func restricted(_ facts: HostFacts, to paths: Set<String>) -> HostFacts {
    var out = facts
    out.paths = facts.paths.filter { paths.contains($0.key) }
    out.probeOutputs = [:]
    return out
  }
}
