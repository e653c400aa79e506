import DasprovCore
import DasprovTasks
import Foundation
import Testing

@testable import DasprovEngine

/// The record of what dasprov last wrote: which files it vouches for, the lines a plan proves,
/// and every way a line stops matching (a drifted file, another variable, another template).
@Suite struct RecordTests {
  /// A project with one file per kind of recordable task, a file a `file` task also touches (no
  /// record can vouch for it), and a file a template writes whole and an `xml` task then edits
  /// (written again on every run: never a fixpoint, so never recorded).
  final class Fixture {
    let dir: String
    init() throws {
      dir = NSTemporaryDirectory() + "dasprov-records-\(UUID().uuidString)"
      let files = [
        "Playbooks/site.dasp": "play web {\n  hosts all\n  use m\n}\n",
        "Modules/m/tasks.dasp": """
          task "attribute" xml "/etc/a.xml" { set "/a/@v" = value }
          task "template" template "/etc/t.conf" {
            from "t.conf"
            mode "0644"
          }
          task "line" line "/etc/l.sh" { ensure "export V={{ value }}" }
          task "shared xml" xml "/etc/b.xml" { set "/b/@v" = value }
          task "shared mode" file "/etc/b.xml" { mode "0600" }
          task "rendered" template "/etc/f.xml" { from "f.xml" }
          task "then edited" xml "/etc/f.xml" { set "/f/@v" = value }

          """,
        "Modules/m/templates/t.conf": "v={{ value }}\n",
        "Modules/m/templates/f.xml": "<f/>\n",
        "hosts.ini": "h1 value=1\n",
        "hosts2.ini": "h1 value=2\n",
      ]
      for (name, text) in files {
        let path = dir + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
      }
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    struct Loaded {
      let planner: HostPlanner
      let instances: [TaskInstance]
      let needs: FactNeedsSummary
      let keys: RecordKeys
    }

    func load(_ inventory: String = "hosts.ini") throws -> Loaded {
      let workspace = try Workspace.load(inventory: dir + "/" + inventory, root: dir, playbook: nil, limit: nil, reporting: Reporting())
      let host = try #require(workspace.world.host("h1"))
      let planner = HostPlanner(host: host, plays: workspace.project!.plays, world: workspace.world)
      let instances = try planner.instances()
      return Loaded(
        planner: planner, instances: instances, needs: try planner.factNeeds(instances),
        keys: RecordKeys(project: workspace.project!, world: workspace.world))
    }
  }

  func file(_ text: String, mode: Int = 0o644, content: Bool = true) -> PathFacts {
    let bytes = Array(text.utf8)
    return PathFacts(
      type: .file, mode: mode, owner: "root", group: "root", size: bytes.count, sha256: SHA256.hex(bytes),
      content: content ? bytes : nil)
  }

  /// The host as the fixture finds it: nothing converged yet.
  var before: HostFacts {
    var facts = HostFacts(osID: "debian", hostname: "h1", user: "root")
    facts.paths = [
      "/etc/a.xml": file("<a v=\"0\"/>\n"), "/etc/t.conf": .missing, "/etc/l.sh": file("#!/bin/sh\n"),
      "/etc/b.xml": file("<b v=\"0\"/>\n"), "/etc/f.xml": file("<f/>\n"),
    ]
    return facts
  }

  /// Facts after `changes`, as the next survey reports them: digests, no contents.
  func surveyed(_ facts: HostFacts, after changes: [Change]) -> HostFacts {
    var out = facts
    HostPlanner.applyToFacts(changes, &out)
    for (path, f) in out.paths { out.paths[path]?.content = nil; out.paths[path]?.size = f.content?.count ?? f.size }
    return out
  }

  func records(_ lines: [(tag: UInt64, record: FileRecord)]) -> HostRecords {
    var r = HostRecords()
    for l in lines { r.lines[l.tag] = l.record }
    return r
  }

  @Test func aPlanProvesItsFixpointsAndTheNextRunPlansThemWithoutContents() throws {
    let fixture = try Fixture()
    let l = try fixture.load()
    let first = l.planner.recordCheck(l.instances, requests: l.needs.byInstance, facts: before, records: HostRecords(), keys: l.keys)
    #expect(first.hits.isEmpty)
    #expect(Set(first.chains.map(\.path)) == ["/etc/a.xml", "/etc/t.conf", "/etc/l.sh", "/etc/f.xml"], "b.xml is also a file task's")
    #expect(Set(first.needContent) == ["/etc/a.xml", "/etc/t.conf", "/etc/l.sh", "/etc/b.xml", "/etc/f.xml"])

    let plan = l.planner.plan(l.instances, facts: before, handlers: [])
    #expect(plan.failure == nil)
    let proven = l.planner.provenRecords(plan, check: first, instances: l.instances, facts: before, peers: PeerFacts())
    let byTag = records(proven)
    let tag = { (path: String) in HostRecords.tag(host: "h1", path: path) }
    #expect(Set(byTag.lines.keys) == Set(["/etc/a.xml", "/etc/t.conf", "/etc/l.sh"].map(tag)), "f.xml is rendered, then edited, on every plan")
    let after = surveyed(before, after: plan.changes)
    #expect(byTag.lines[tag("/etc/a.xml")]?.output == Digest256(hex: after.path("/etc/a.xml").sha256!))

    // The next run: the three recorded files need nothing more; their tasks are ok.
    let second = l.planner.recordCheck(l.instances, requests: l.needs.byInstance, facts: after, records: byTag, keys: l.keys)
    #expect(second.hits == ["/etc/a.xml", "/etc/t.conf", "/etc/l.sh"])
    #expect(Set(second.needContent) == ["/etc/b.xml", "/etc/f.xml"])
    let replan = l.planner.plan(l.instances, facts: after, handlers: [], recorded: second.recorded)
    for t in replan.tasks where second.recorded.contains(t.index) { #expect(t.plan.status == .ok, "\(t.instance.label)") }

    // A mode changed behind dasprov's back is still seen without the content.
    var chmodded = after
    chmodded.paths["/etc/t.conf"]?.mode = 0o600
    let third = l.planner.recordCheck(l.instances, requests: l.needs.byInstance, facts: chmodded, records: byTag, keys: l.keys)
    #expect(third.hits.contains("/etc/t.conf"))
    let attrs = l.planner.plan(l.instances, facts: chmodded, handlers: [], recorded: third.recorded)
    #expect(attrs.changes.contains(.setAttributes(path: "/etc/t.conf", mode: 0o644, owner: nil, group: nil)))
  }

  @Test func aDriftedFileAnotherVariableOrAnotherTemplateIsPlannedTheSlowWay() throws {
    let fixture = try Fixture()
    let l = try fixture.load()
    let plan = l.planner.plan(l.instances, facts: before, handlers: [])
    let first = l.planner.recordCheck(l.instances, requests: l.needs.byInstance, facts: before, records: HostRecords(), keys: l.keys)
    let byTag = records(l.planner.provenRecords(plan, check: first, instances: l.instances, facts: before, peers: PeerFacts()))
    let after = surveyed(before, after: plan.changes)

    // One byte changed, size kept: its digest differs.
    var drifted = after
    drifted.paths["/etc/a.xml"]?.sha256 = SHA256.hex(Array("<a v=\"7\"/>\n".utf8))
    let d = l.planner.recordCheck(l.instances, requests: l.needs.byInstance, facts: drifted, records: byTag, keys: l.keys)
    #expect(d.hits == ["/etc/t.conf", "/etc/l.sh"])
    #expect(d.needContent.contains("/etc/a.xml"))

    // Another value of a variable: every key changes.
    let other = try fixture.load("hosts2.ini")
    let v = other.planner.recordCheck(other.instances, requests: other.needs.byInstance, facts: after, records: byTag, keys: other.keys)
    #expect(v.hits.isEmpty)

    // Another OS: the facts expressions read are in the key.
    var moved = after
    moved.osID = "rocky"
    #expect(l.planner.recordCheck(l.instances, requests: l.needs.byInstance, facts: moved, records: byTag, keys: l.keys).hits.isEmpty)

    // Another template text: the project's digest is in every key.
    try "w={{ value }}\n".write(toFile: fixture.dir + "/Modules/m/templates/t.conf", atomically: true, encoding: .utf8)
    let edited = try fixture.load()
    #expect(edited.planner.recordCheck(edited.instances, requests: edited.needs.byInstance, facts: after, records: byTag, keys: edited.keys).hits.isEmpty)
  }

  @Test func recordLinesRoundTripAndJunkIsSkipped() {
    let record = FileRecord(key: .of(Array("k".utf8)), output: .of(Array("o".utf8)))
    let text = HostRecords.text(tag: 0x00ab_cdef_0123_4567, record)
    var parsed = HostRecords()
    for line in [text, "x" + text.dropFirst(), String(text.dropLast()), "", "00abcdef01234567 zz"] {
      var bytes = Array(line.utf8)
      bytes.withUnsafeMutableBufferPointer { parsed.add(line: UnsafeBufferPointer($0)) }
    }
    #expect(parsed.lines == [0x00ab_cdef_0123_4567: record])
    #expect(Digest256(hex: record.key.description) == record.key)
  }
}
