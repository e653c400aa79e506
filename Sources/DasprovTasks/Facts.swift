import DasprovCore

/// What planning needs to know about one remote path.
public struct FactNeeds: OptionSet, Sendable, Hashable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// Type, mode, owner, group, size and symlink target (from `lstat`).
  public static let stat = FactNeeds(rawValue: 1)
  /// The SHA-256 of a regular file.
  public static let hash = FactNeeds(rawValue: 2)
  /// The bytes of a small file (edited on the controller: xml, line, properties).
  public static let content = FactNeeds(rawValue: 4)
  /// The regular files below a directory, with sizes (for `prune`).
  public static let listing = FactNeeds(rawValue: 8)
}

/// A path and what to learn about it in a host's one fact round trip: the host being planned,
/// or another host whose file the plan needs (the MySQL host loads a schema from a DAS node).
public struct FactRequest: Sendable, Hashable {
  /// The inventory host to ask; nil for the host being planned.
  public var host: String?
  public var path: String
  public var needs: FactNeeds

  public init(_ path: String, _ needs: FactNeeds) {
    self.path = path
    self.needs = needs
  }

  /// A request answered by `host`'s fact round trip, for another host's plan.
  public init(host: String?, path: String, needs: FactNeeds) {
    self.host = host
    self.path = path
    self.needs = needs
  }
}

/// A guard command (`unless`) run during fact gathering, so deciding costs no extra round trip.
public struct ProbeRequest: Sendable, Hashable {
  public var argv: [String]
  /// Whether its standard output is needed too (e.g. a database's catalogue), not only its status.
  public var capture: Bool
  public init(_ argv: [String], capture: Bool = false) {
    self.argv = argv
    self.capture = capture
  }
}

/// What the host said about a path.
public struct PathFacts: Sendable, Hashable {
  public enum FileType: String, Sendable { case missing, file, directory, symlink, other }

  public var type: FileType
  /// Permission bits, e.g. 0o644.
  public var mode: Int?
  public var owner: String?
  public var group: String?
  public var size: Int?
  public var sha256: String?
  public var linkTarget: String?
  /// The file's bytes, when requested and the file is small enough to fetch.
  public var content: [UInt8]?
  /// Regular files below a directory, as paths relative to it.
  public var entries: [String]?

  public init(
    type: FileType, mode: Int? = nil, owner: String? = nil, group: String? = nil, size: Int? = nil,
    sha256: String? = nil, linkTarget: String? = nil, content: [UInt8]? = nil, entries: [String]? = nil
  ) {
    self.type = type
    self.mode = mode
    self.owner = owner
    self.group = group
    self.size = size
    self.sha256 = sha256
    self.linkTarget = linkTarget
    self.content = content
    self.entries = entries
  }

  public static let missing = PathFacts(type: .missing)
  public var exists: Bool { type != .missing }
}

/// Everything gathered from one host in its single fact round trip.
/// Who a server would run as on the host, as account.sh resolved it.
public struct ServiceAccount: Sendable, Hashable {
  /// The owner of the installation.
  public var owner: String
  public var user: String
  public var javaHome: String
  /// Why the server cannot be started so; nil when it can.
  public var problem: String?

  public init(owner: String, user: String, javaHome: String, problem: String?) {
    self.owner = owner
    self.user = user
    self.javaHome = javaHome
    self.problem = problem
  }
}

public struct HostFacts: Sendable {
  public var osID: String
  public var osLike: [String]
  public var osVersion: String
  public var osPrettyName: String
  public var hostname: String
  public var user: String
  public var addresses: [String]
  public var paths: [String: PathFacts]
  /// Exit status of each guard command, by argv.
  public var probes: [[String]: Int32]
  /// Standard output of the probes that asked for it, by argv.
  public var probeOutputs: [[String]: [UInt8]] = [:]
  /// Handlers whose restart is still owed from an earlier, interrupted run.
  public var pendingHandlers: [String]
  /// The accounts servers would run as, by handler name (when a handler names one).
  public var accounts: [String: ServiceAccount] = [:]

  public init(
    osID: String = "", osLike: [String] = [], osVersion: String = "", osPrettyName: String = "",
    hostname: String = "", user: String = "", addresses: [String] = [], paths: [String: PathFacts] = [:],
    probes: [[String]: Int32] = [:], pendingHandlers: [String] = []
  ) {
    self.osID = osID
    self.osLike = osLike
    self.osVersion = osVersion
    self.osPrettyName = osPrettyName
    self.hostname = hostname
    self.user = user
    self.addresses = addresses
    self.paths = paths
    self.probes = probes
    self.pendingHandlers = pendingHandlers
  }

  /// `RedHat` for rhel, centos, fedora, rocky, almalinux, ol and anything whose ID_LIKE names
  /// one of them; `Debian` for debian, ubuntu and their derivatives; otherwise the ID itself.
  public var osFamily: String { Self.family(id: osID, like: osLike) }

  public static let redHatIDs: Set<String> = ["rhel", "centos", "fedora", "rocky", "almalinux", "alma", "ol"]
  public static let debianIDs: Set<String> = ["debian", "ubuntu"]

  public static func family(id: String, like: [String]) -> String {
    let ids = [id.lowercased()] + like.map { $0.lowercased() }
    if ids.contains(where: redHatIDs.contains) { return "RedHat" }
    if ids.contains(where: debianIDs.contains) { return "Debian" }
    return id.isEmpty ? "unknown" : id
  }

  /// The facts expressions can read, by name.
  public var variables: [String: Value] {
    [
      "os_family": .string(osFamily), "os_id": .string(osID), "os_like": .list(osLike.map { .string($0) }),
      "os_version": .string(osVersion), "os_name": .string(osPrettyName), "hostname": .string(hostname),
      "remote_user": .string(user), "addresses": .list(addresses.map { .string($0) }),
    ]
  }

  /// What `variables` is made of: equal inputs, equal variables.
  public struct Variables: Sendable, Equatable {
    var osID: String, osLike: [String], osVersion: String, osPrettyName: String
    var hostname: String, user: String, addresses: [String]
  }

  public var variableInputs: Variables {
    Variables(
      osID: osID, osLike: osLike, osVersion: osVersion, osPrettyName: osPrettyName, hostname: hostname, user: user,
      addresses: addresses)
  }

  /// Names of the facts above, known before any host is contacted (for validation).
  public static let variableNames: Set<String> = [
    "os_family", "os_id", "os_like", "os_version", "os_name", "hostname", "remote_user", "addresses",
  ]

  public func path(_ p: String) -> PathFacts { paths[p] ?? .missing }
}
