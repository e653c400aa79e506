import DasprovCore
import DasprovTasks

/// A file of one host whose tasks a record can vouch for: every task that touches it is
/// recordable and touches nothing else.
struct FileChain: Sendable {
  var path: String
  var tag: UInt64
  var key: Digest256
  /// The tasks touching it, as indices into the host's instances, in order.
  var instances: [Int]
}

/// What the record decided for one host before planning.
struct RecordCheck: Sendable {
  var chains: [FileChain] = []
  /// Files the record vouches for: their tasks are planned without their content.
  var hits: Set<String> = []
  /// The instances of those files' tasks.
  var recorded: Set<Int> = []
  /// Files whose plan needs their bytes: every other file a task reads, in request order.
  var needContent: [String] = []
}

extension HostPlanner {
  /// Which of the host's files the record vouches for, and which need their contents fetched.
  ///
  /// - Parameters:
  ///   - requests: each instance's own requests (`FactNeedsSummary.byInstance`).
  ///   - records: the host's record, nil when it was not read (then every file is planned the
  ///     slow way, and no line is written).
  func recordCheck(
    _ instances: [TaskInstance], requests: [[FactRequest]?], facts: HostFacts, records: HostRecords?, keys: RecordKeys?
  ) -> RecordCheck {
    var check = RecordCheck()
    var touching: [String: [Int]] = [:]
    var order: [String] = []
    var unrecordable: Set<String> = []
    for (index, i) in instances.enumerated() {
      guard index < requests.count, let own = requests[index], !own.isEmpty else { continue }
      // Facts are known now: a task whose condition is false needs nothing. One whose
      // condition cannot be evaluated fails in planning; its files are not vouched for.
      let condition: Condition
      do throws(Diagnostic) { condition = try self.condition(i, facts: facts) } catch {
        unrecordable.formUnion(own.map(\.path))
        continue
      }
      guard condition != .no else { continue }
      let recordable = (try? i.decodedArguments())??.recordable ?? false
      let paths = Set(own.map(\.path))
      if !recordable || paths.count != 1 { unrecordable.formUnion(paths) }
      for r in own {
        if touching[r.path] == nil { order.append(r.path) }
        touching[r.path, default: []].append(index)
        if r.needs.contains(.content), !check.needContent.contains(r.path) { check.needContent.append(r.path) }
      }
    }
    guard let records, let keys else { return check }
    let hostKey = keys.host(host.name, facts: facts)
    for path in order where !unrecordable.contains(path) && check.needContent.contains(path) {
      let tasks = touching[path] ?? []
      let chain = FileChain(
        path: path, tag: HostRecords.tag(host: host.name, path: path),
        key: RecordKeys.file(host: hostKey, path: path, tasks: tasks.map { instances[$0] }), instances: tasks)
      check.chains.append(chain)
      let current = facts.path(path)
      guard current.type == .file || current.type == .symlink, let sha = current.sha256, let digest = Digest256(hex: sha),
        records.lines[chain.tag] == FileRecord(key: chain.key, output: digest)
      else { continue }
      check.hits.insert(path)
      check.recorded.formUnion(tasks)
    }
    check.needContent.removeAll { check.hits.contains($0) }
    return check
  }

  /// The record lines a plan proves, for files the record did not vouch for: a file whose tasks
  /// all planned ok is a fixpoint as it is; a file the plan changes is one if planning its
  /// tasks again against the content they produce changes nothing (checked here, and only then
  /// recorded). Written by the apply that makes the changes, after all of them.
  func provenRecords(
    _ plan: HostPlan, check: RecordCheck, instances: [TaskInstance], facts: HostFacts, peers: PeerFacts
  ) -> [(tag: UInt64, record: FileRecord)] {
    guard plan.failure == nil else { return [] }
    var status: [Int: TaskPlan.Status] = [:]
    for t in plan.tasks { status[t.index] = t.plan.status }
    var after: HostFacts?
    var out: [(tag: UInt64, record: FileRecord)] = []
    for chain in check.chains where !check.hits.contains(chain.path) {
      let statuses = chain.instances.map { status[$0] }
      guard statuses.allSatisfy({ $0 == .ok || $0 == .changed }) else { continue }
      var result = facts.path(chain.path)
      if statuses.contains(.changed) {
        if after == nil {
          var a = facts
          Self.applyToFacts(plan.changes, &a)
          after = a
        }
        guard let after, replansUnchanged(chain, instances: instances, facts: after, peers: peers) else { continue }
        result = after.path(chain.path)
      }
      guard result.type == .file || result.type == .symlink, let sha = result.sha256, let digest = Digest256(hex: sha) else { continue }
      out.append((chain.tag, FileRecord(key: chain.key, output: digest)))
    }
    return out
  }

  /// Whether the chain's tasks, planned against `facts`, change nothing.
  private func replansUnchanged(_ chain: FileChain, instances: [TaskInstance], facts: HostFacts, peers: PeerFacts) -> Bool {
    for index in chain.instances {
      let i = instances[index]
      do throws(Diagnostic) {
        guard let arguments = try i.decodedArguments() else { return false }
        if try arguments.plan(context(i, facts: facts, peers: peers)).status != .ok { return false }
      } catch {
        return false
      }
    }
    return true
  }
}
