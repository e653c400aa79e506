import DasprovCore
import Foundation

/// The DAS 3.1.0 fully distributed HA cluster an inventory describes: which node plays which
/// role, at which address and ports, who sees whom in Hazelcast, and the restart order.
///
/// It knows DAS (ports, offsets, the Spark/CEP port clash); the engine and the DSL do not.
public struct ClusterTopology: Sendable {
  public static let roles = ["receivers", "indexers", "analyzers", "presenters"]
  public static let profiles = [
    "receivers": "-receiverNode", "indexers": "-indexerNode", "analyzers": "-analyzerNode", "presenters": "-dashboardNode",
  ]

  public struct Node: Sendable {
    public var host: HostSpec
    public var roles: [String]
    public var address: String?
    public var offset: Int
    public var hazelcastPort: Int
    public var ports: [(name: String, port: Int)]
  }

  public var nodes: [Node]
  public var database: HostSpec?
  public var databaseAddress: String?
  public var restartOrder: [String]

  /// Whether the inventory describes a DAS cluster at all (any role group present).
  public static func applies(to world: World) -> Bool {
    roles.contains { world.groupMembers[$0] != nil }
  }

  public init(world: World, restartOrder: [String]) {
    var nodes: [Node] = []
    for host in world.hosts {
      let roles = Self.roles.filter { world.groupMembers[$0]?.contains(host.name) ?? false }
      guard !roles.isEmpty else { continue }
      let object = world.hostObjects[host.name]?.mapValue ?? [:]
      let address = (object["das_address"] ?? host.vars["ansible_host"])?.description ?? host.name
      let offset = object["das_port_offset"]?.intValue ?? 0
      let hz = object["hazelcast_port"]?.intValue ?? 4000
      nodes.append(Node(host: host, roles: roles, address: address.isEmpty ? nil : address, offset: offset, hazelcastPort: hz, ports: Self.ports(roles: roles, offset: offset, hazelcast: hz)))
    }
    self.nodes = nodes
    let db = world.groupMembers["mysql"]?.first.flatMap(world.host)
    self.database = db
    self.databaseAddress = db.map { ($0.vars["ansible_host"] ?? .string($0.name)).description }
    if let first = world.hosts.first, let h = world.hostObjects[first.name]?.mapValue, let v = h["db_host"] {
      self.databaseAddress = v.description
    }
    self.restartOrder = restartOrder
  }

  /// The ports a node listens on (FACTS.md §2): everything but Hazelcast moves with the offset;
  /// analyzers run Spark, whose worker port (11000) is why their CEP presentation port is 11002.
  static func ports(roles: [String], offset: Int, hazelcast: Int) -> [(String, Int)] {
    // Any integer can come from the inventory: clamp it so the sums cannot overflow; the ports
    // are then out of range, which `validate` reports.
    let o = min(max(offset, -1 << 20), 1 << 20)
    var p: [(String, Int)] = [
      ("https", 9443 + o), ("http", 9763 + o), ("thrift", 7611 + o), ("thrift-ssl", 7711 + o),
      ("binary", 9611 + o), ("binary-ssl", 9711 + o), ("hazelcast", hazelcast), ("jmx-rmi", 9999 + o),
      ("jmx-server", 11111 + o), ("cep-ha-eventsync", 11224 + o), ("cep-ha-management", 10005 + o),
    ]
    if roles.contains("analyzers") {
      p += [
        ("cep-ha-presentation", 11002 + o), ("spark-master", 7077 + o), ("spark-rest", 6066 + o), ("spark-master-ui", 8081 + o),
        ("spark-worker", 11000 + o), ("spark-worker-ui", 11500 + o), ("spark-ui", 4040 + o),
      ]
    } else {
      p.append(("cep-ha-presentation", 11000 + o))
    }
    return p
  }

  public func members(of role: String) -> [Node] { nodes.filter { $0.roles.contains(role) } }

  /// Hosts with a port outside 1-65535 (an offset or Hazelcast port too large or small).
  public var hostsWithPortsOutOfRange: Set<String> {
    Set(nodes.filter { n in n.ports.contains { !(1...65535).contains($0.port) } }.map(\.host.name))
  }

  /// A port (or range) a node must be reachable on, and from whom (FACTS.md §10).
  public struct Reachable: Sendable, Hashable {
    public var ports: String
    public var service: String
    public var from: String
  }

  /// The ports other machines must reach on `node`, for firewall rules: HTTPS from clients and
  /// the other nodes; Hazelcast from its own cluster; CEP HA (event sync, management,
  /// presentation) from the other DAS nodes; Spark between the analyzers.
  public func reachable(_ node: Node) -> [Reachable] {
    func port(_ name: String) -> String { node.ports.first { $0.name == name }.map { String($0.port) } ?? "?" }
    let analyzer = node.roles.contains("analyzers")
    var out = [
      Reachable(ports: port("https"), service: "https", from: "clients and every node"),
      Reachable(ports: String(node.hazelcastPort), service: "hazelcast", from: analyzer ? "the analyzers" : "every non-analyzer"),
      Reachable(ports: "\(port("cep-ha-eventsync")), \(port("cep-ha-management"))", service: "CEP HA event sync, management", from: "every DAS node"),
      Reachable(ports: port("cep-ha-presentation"), service: "CEP HA presentation", from: "every DAS node"),
    ]
    if analyzer {
      let o = min(max(node.offset, -1 << 20), 1 << 20)
      out.append(
        Reachable(
          ports: "\(port("spark-master")), \(port("spark-rest")), \(port("spark-worker")), \(port("spark-worker-ui")), \(12000 + o)-\(14500 + o)",
          service: "Spark master, REST, worker", from: "the other analyzers"))
    }
    return out
  }

  // MARK: - Validation

  /// Problems with the cluster's shape, each pointing at the inventory line it comes from.
  public func validate(world: World) -> [Diagnostic] {
    var out: [Diagnostic] = []
    let settings = world.hosts.first.flatMap { world.hostObjects[$0.name]?.mapValue } ?? [:]
    let expected = settings["das_nodes_per_role"]?.intValue ?? 2
    let allowShared = settings["das_allow_shared_roles"]?.isTruthy ?? false
    for role in Self.roles {
      let members = self.members(of: role)
      if members.count != expected {
        let names = members.map(\.host.name).joined(separator: ", ")
        let at = members.last?.host.location ?? members.first?.host.location
        out.append(
          .error(
            "group '\(role)' has \(members.count) host\(members.count == 1 ? "" : "s")\(names.isEmpty ? "" : " (\(names))"); a fully distributed HA cluster needs exactly \(expected) (set das_nodes_per_role to change this)",
            at: at))
      }
    }
    for n in nodes where n.roles.count > 1 && !allowShared {
      out.append(
        .error(
          "host \(n.host.name) is in more than one role (\(n.roles.joined(separator: ", "))); each DAS node has one start profile (set das_allow_shared_roles=true to allow it)",
          at: n.host.location))
    }
    for n in nodes {
      guard let (name, _) = n.ports.first(where: { !(1...65535).contains($0.port) }) else { continue }
      let variable = name == "hazelcast" ? "hazelcast_port" : "das_port_offset"
      let value = name == "hazelcast" ? n.hazelcastPort : n.offset
      out.append(
        .error(
          "\(variable)=\(value) puts the \(name) port of host \(n.host.name) outside 1-65535",
          at: n.host.varOrigins[variable] ?? n.host.location))
    }
    for n in nodes where n.address == nil {
      out.append(.error("host \(n.host.name) has no address: set ansible_host or das_address", at: n.host.location))
    }
    // Nodes on one address need distinct offsets; their ports must not meet.
    let byAddress = Dictionary(grouping: nodes.filter { $0.address != nil }) { $0.address! }
    for (address, group) in byAddress.sorted(by: { $0.key < $1.key }) where group.count > 1 {
      var seen: [Int: String] = [:]
      for n in group {
        if let other = seen[n.offset] {
          out.append(
            .error(
              "hosts \(other) and \(n.host.name) share address \(address) and port offset \(n.offset); give them different das_port_offset values",
              at: n.host.varOrigins["das_port_offset"] ?? n.host.location))
        }
        seen[n.offset] = n.host.name
      }
    }
    for (address, group) in byAddress.sorted(by: { $0.key < $1.key }) {
      var owner: [Int: (String, String)] = [:]
      for n in group {
        for (name, port) in n.ports {
          if let (otherHost, otherName) = owner[port] {
            let same = otherHost == n.host.name
            let where_ = same ? "on host \(n.host.name)" : "on \(address) between \(otherHost) and \(n.host.name)"
            // Hazelcast's port does not move with the offset, so co-located nodes clash on it.
            out.append(
              .error(
                "port \(port) is used twice \(where_): \(otherName) and \(name)",
                at: n.host.varOrigins[name == "hazelcast" ? "hazelcast_port" : "das_port_offset"] ?? n.host.location))
          } else {
            owner[port] = (n.host.name, name)
          }
        }
      }
    }
    if let members = world.groupMembers["mysql"], members.count > 1 {
      out.append(.error("group 'mysql' has \(members.count) hosts; dasprov manages one database server", at: world.host(members[1])?.location))
    }
    for n in nodes {
      for v in ["db_host", "db_user", "db_password"] where (world.hostObjects[n.host.name]?.mapValue?[v]).map({ $0.isNull }) ?? true {
        out.append(.error("host \(n.host.name) has no '\(v)': the shared MySQL database needs it (set it in [das:vars])", at: n.host.location))
      }
    }
    return Self.dedupe(out)
  }

  private static func dedupe(_ ds: [Diagnostic]) -> [Diagnostic] {
    var seen: Set<String> = []
    return ds.filter { seen.insert($0.message).inserted }
  }

  // MARK: - Display

  public func text() -> String {
    var out = "DAS 3.1.0 fully distributed HA cluster\n"
    for role in Self.roles {
      out += "\n\(role) (\(Self.profiles[role]!)):\n"
      for n in members(of: role) {
        let https = n.ports.first { $0.name == "https" }!.port
        let presentation = n.ports.first { $0.name == "cep-ha-presentation" }!.port
        out += "  \(n.host.name)  address \(n.address ?? "?")  offset \(n.offset)  https \(https)  hazelcast \(n.hazelcastPort)  cep-presentation \(presentation)"
        if role == "analyzers" {
          let master = n.ports.first { $0.name == "spark-master" }!.port
          let worker = n.ports.first { $0.name == "spark-worker" }!.port
          out += "  spark-master \(master)  spark-worker \(worker)"
        }
        out += "\n"
      }
    }
    out += "\nHazelcast membership (wka):\n"
    out += "  analyzers' cluster: " + members(of: "analyzers").map { "\($0.address ?? $0.host.name):\($0.hazelcastPort)" }.joined(separator: ", ") + "  (seen by the analyzers only)\n"
    out += "  main cluster: " + (members(of: "indexers") + members(of: "receivers")).map { "\($0.address ?? $0.host.name):\($0.hazelcastPort)" }.joined(separator: ", ") + "  (seen by every non-analyzer)\n"
    out += "\nPresenters (CEP HA presenter, not a worker; they present on their own address): " + members(of: "presenters").map(\.host.name).joined(separator: ", ") + "\n"
    if let db = database {
      out += "\nDatabase: \(db.name) (\(databaseAddress ?? "?")) — userdb, regdb, WSO2_ANALYTICS_EVENT_STORE_DB, WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB\n"
      out += "  used by: " + nodes.map(\.host.name).joined(separator: ", ") + "\n"
    } else if let a = databaseAddress {
      out += "\nDatabase: MySQL at \(a) (not managed: no [mysql] group) — used by every node\n"
    }
    out += "\nPorts each node must be reachable on (tcp; for firewall rules):\n"
    for n in nodes {
      out += "  \(n.host.name) (\(n.address ?? "?")): "
      out += reachable(n).map { "\($0.ports) \($0.service) from \($0.from)" }.joined(separator: "; ") + "\n"
    }
    out += "\nRestart order: " + restartOrder.joined(separator: " → ") + " (one node at a time per role)\n"
    return out
  }

  /// Graphviz: `dasprov topology INVENTORY --dot | dot -Tsvg > cluster.svg`.
  public func dot() -> String {
    var out = "digraph das {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n"
    for role in Self.roles {
      out += "  subgraph \"cluster_\(role)\" {\n    label=\"\(role) \(Self.profiles[role]!)\";\n"
      for n in members(of: role) {
        out += "    \"\(n.host.name)\" [label=\"\(n.host.name)\\n\(n.address ?? "?") +\(n.offset)\"];\n"
      }
      out += "  }\n"
    }
    let analyzers = members(of: "analyzers")
    for a in analyzers {
      for b in analyzers where a.host.name < b.host.name {
        out += "  \"\(a.host.name)\" -> \"\(b.host.name)\" [dir=both, color=blue, label=\"hazelcast\"];\n"
      }
    }
    let main = members(of: "indexers") + members(of: "receivers")
    for n in nodes where !n.roles.contains("analyzers") {
      for m in main where m.host.name != n.host.name {
        out += "  \"\(n.host.name)\" -> \"\(m.host.name)\" [color=gray];\n"
      }
    }
    if let db = database {
      out += "  \"\(db.name)\" [shape=cylinder, label=\"\(db.name)\\nMySQL\"];\n"
      for n in nodes { out += "  \"\(n.host.name)\" -> \"\(db.name)\" [style=dashed, color=darkgreen];\n" }
    }
    out += "}\n"
    return out
  }
}
