import DasprovCore
import DasprovDSL

/// What a notified handler does on its host.
public enum HandlerAction: Sendable, Hashable {
  case restart(RestartSpec)
  case run(argv: [String])
}

/// A health-gated restart: stop the old process, start the new one, and wait until it is
/// provably up — the old PID gone, the port closed then open again, and the start-up line
/// written to the log after the restart began.
public struct RestartSpec: Sendable, Hashable {
  /// Who the server runs as and with which JAVA_HOME; nil: the restart program's own user and
  /// environment.
  public var account: ServiceAccountSpec?
  public var pidFile: String?
  public var stop: [String]?
  public var start: [String]
  public var port: Int?
  public var address: String
  public var logFile: String?
  public var logLine: String?
  public var timeoutSeconds: Int

  public init(
    pidFile: String?, stop: [String]?, start: [String], port: Int?, address: String, logFile: String?,
    logLine: String?, timeoutSeconds: Int
  ) {
    self.pidFile = pidFile
    self.stop = stop
    self.start = start
    self.port = port
    self.address = address
    self.logFile = logFile
    self.logLine = logLine
    self.timeoutSeconds = timeoutSeconds
  }
}

/// The account a server is started and stopped as (FACTS.md §10: not root; `JAVA_HOME` passed
/// explicitly, since `sudo` drops it). Resolved on the host (account.sh), in the fact round trip
/// to refuse a run before any change, and again by the restart itself.
public struct ServiceAccountSpec: Sendable, Hashable {
  /// The installation: its owner is the default user.
  public var home: String
  /// nil: the owner of `home`, which must not be root.
  public var user: String?
  /// nil: the JAVA_HOME `user`'s login environment sets.
  public var javaHome: String?
  /// Runtime paths (absolute, or relative to `home`) given to the user before a start, so a
  /// server that once ran as root can run as its user.
  public var owns: [String]

  public init(home: String, user: String?, javaHome: String?, owns: [String]) {
    self.home = home
    self.user = user
    self.javaHome = javaHome
    self.owns = owns
  }
}

/// Handler kinds: `service` (health-gated restart) and `command`.
public enum HandlerKinds {
  public static let names = ["service", "command"]

  public static func rules(for kind: String) -> [StatementRule]? {
    switch kind {
    case "service":
      return [
        StatementRule("start", required: true, usage: "start [\"bin/server.sh\", \"--start\", profile]"),
        StatementRule("stop", usage: "stop [\"bin/server.sh\", \"--stop\"]"),
        StatementRule("pidfile", usage: "pidfile \"/path/server.pid\""),
        StatementRule("port", modifiers: ["on"], usage: "port 9443 + offset on address"),
        StatementRule("log", modifiers: ["contains"], usage: "log \"/path/server.log\" contains \"started\""),
        StatementRule("timeout", usage: "timeout 300 (seconds)"),
        StatementRule("home", usage: "home das_home (the server runs as its owner unless 'user' says otherwise)"),
        StatementRule("user", usage: "user das_user (none: the owner of 'home', never root unless written)"),
        StatementRule("java_home", usage: "java_home das_java_home (none: the user's login JAVA_HOME)"),
        StatementRule("owns", usage: "owns [\"repository/logs\", \"tmp\"] (given to the user before a start)"),
      ]
    case "command":
      return [StatementRule("run", required: true, usage: "run [\"cmd\", \"arg\"]")]
    default:
      return nil
    }
  }

  /// Evaluates a handler's statements for one host.
  public static func resolve(_ handler: HandlerDecl, context: TaskContext, defaultAddress: String) throws(Diagnostic) -> HandlerAction {
    guard let rules = rules(for: handler.kind.name) else {
      throw Diagnostic.error("unknown handler kind '\(handler.kind.name)'", at: handler.kind.range)
    }
    let statements = try Statements.checked(handler.statements, rules: rules, owner: "a \(handler.kind.name) handler", ownerRange: handler.kind.range)
    switch handler.kind.name {
    case "command":
      return .run(argv: try context.argv(statements.requiredPositional("run"), "run"))
    default:
      let start = try context.argv(statements.requiredPositional("start"), "start")
      let stop = try statements.optionalPositional("stop").map { e throws(Diagnostic) in try context.argv(e, "stop") }
      let pidFile = try statements.optionalPositional("pidfile").map { e throws(Diagnostic) in try context.path(e, "pidfile") }
      var port: Int?
      var address = defaultAddress
      if let p = statements.first("port") {
        let portExpr = try statements.positional(of: p)
        let value = try context.int(portExpr, "port")
        guard (1...65535).contains(value) else {
          throw Diagnostic.error("port \(value) is out of range 1-65535", at: portExpr.range)
        }
        port = value
        if let on = p.modifier("on") { address = try context.string(on.value, "port address") }
      }
      var logFile: String?
      var logLine: String?
      if let l = statements.first("log") {
        logFile = try context.path(statements.positional(of: l), "log file")
        guard let contains = l.modifier("contains") else {
          throw Diagnostic.error("log gate needs 'contains \"text\"'", at: l.range)
        }
        logLine = try context.string(contains.value, "log line")
      }
      var timeout = 300
      if let t = statements.first("timeout") {
        timeout = try context.int(statements.positional(of: t), "timeout")
        guard timeout > 0 else { throw Diagnostic.error("timeout must be positive", at: t.range) }
      }
      var spec = RestartSpec(
        pidFile: pidFile, stop: stop, start: start, port: port, address: address, logFile: logFile,
        logLine: logLine, timeoutSeconds: timeout)
      spec.account = try account(statements, context: context)
      return .restart(spec)
    }
  }
}

extension HandlerKinds {
  /// The service's account, when the handler names its `home`.
  static func account(_ statements: Statements, context: TaskContext) throws(Diagnostic) -> ServiceAccountSpec? {
    guard let home = try statements.optionalPositional("home") else {
      for keyword in ["user", "java_home", "owns"] {
        if let s = statements.first(keyword) { throw Diagnostic.error("'\(keyword)' needs 'home': the installation the server runs from", at: s.range) }
      }
      return nil
    }
    func optional(_ keyword: String, path: Bool) throws(Diagnostic) -> String? {
      guard let e = try statements.optionalPositional(keyword), !(try context.value(e)).isNull else { return nil }
      return path ? try context.path(e, keyword) : try context.string(e, keyword)
    }
    var owns: [String] = []
    if let e = try statements.optionalPositional("owns") {
      guard case .list(let items) = try context.value(e) else { throw Diagnostic.error("owns must be a list of paths", at: e.range) }
      owns = items.map(\.description)
    }
    return ServiceAccountSpec(
      home: try context.path(home, "home"), user: try optional("user", path: false), javaHome: try optional("java_home", path: true), owns: owns)
  }
}

/// A pre-flight check, run on every host of its play before the first restart of a run.
public enum CheckAction: Sendable, Hashable {
  /// The database answers on TCP and, where a `mysql` client exists on the node, the DAS login
  /// works and every database is visible to it.
  case database(DatabaseCheck)
}

/// What the `database` check asks of the shared database, from a node.
public struct DatabaseCheck: Sendable, Hashable {
  public var host: String
  public var port: Int
  public var user: String
  public var password: String
  public var databases: [String]
  public var timeoutSeconds: Int
  /// The connections the cluster can open (nodes × datasources × maxActive), compared with the
  /// server's max_connections: a warning with the three numbers when it is short.
  public var budget: ConnectionBudget?
  /// `schema.table` names whose absence means the first start needs `-Dsetup`: a warning.
  public var tables: [String]

  public init(
    host: String, port: Int, user: String, password: String, databases: [String], timeoutSeconds: Int,
    budget: ConnectionBudget? = nil, tables: [String] = []
  ) {
    self.host = host
    self.port = port
    self.user = user
    self.password = password
    self.databases = databases
    self.timeoutSeconds = timeoutSeconds
    self.budget = budget
    self.tables = tables
  }
}

/// How many connections a cluster's nodes can open to the database at most.
public struct ConnectionBudget: Sendable, Hashable {
  public var nodes: Int
  public var datasources: Int
  public var maxActive: Int
  public var total: Int { nodes * datasources * maxActive }

  public init(nodes: Int, datasources: Int, maxActive: Int) {
    self.nodes = nodes
    self.datasources = datasources
    self.maxActive = maxActive
  }
}

/// Check kinds: `database`.
public enum CheckKinds {
  public static let names = ["database"]

  public static func rules(for kind: String) -> [StatementRule]? {
    guard kind == "database" else { return nil }
    return [
      StatementRule("host", required: true, usage: "host db_host"),
      StatementRule("port", required: true, usage: "port db_port"),
      StatementRule("user", required: true, usage: "user db_user"),
      StatementRule("password", required: true, usage: "password db_password"),
      StatementRule("databases", usage: "databases [\"userdb\", \"regdb\"]"),
      StatementRule("timeout", usage: "timeout 10 (seconds for the TCP connect and the login)"),
      StatementRule(
        "connections",
        usage: "connections {nodes: len(groups[\"das\"]), datasources: 4, max_active: 50} (checked against max_connections)"),
      StatementRule("tables", usage: "tables [\"userdb.UM_USER\"] (missing: the first start needs -Dsetup)"),
    ]
  }

  public static func resolve(_ check: HandlerDecl, context: TaskContext) throws(Diagnostic) -> CheckAction {
    guard let rules = rules(for: check.kind.name) else {
      throw Diagnostic.error("unknown check kind '\(check.kind.name)'", at: check.kind.range)
    }
    let statements = try Statements.checked(check.statements, rules: rules, owner: "a \(check.kind.name) check", ownerRange: check.kind.range)
    let host = try context.string(statements.requiredPositional("host"), "database host")
    let portStatement = try statements.required("port")
    let port = try context.int(statements.positional(of: portStatement), "database port")
    guard (1...65535).contains(port) else { throw Diagnostic.error("port \(port) is out of range", at: portStatement.range) }
    let user = try context.string(statements.requiredPositional("user"), "database user")
    let password = try context.string(statements.requiredPositional("password"), "database password")
    var databases: [String] = []
    if let d = try statements.optionalPositional("databases") {
      guard case .list(let items) = try context.value(d) else { throw Diagnostic.error("databases must be a list", at: d.range) }
      databases = items.map(\.description)
    }
    let timeout = try statements.optionalPositional("timeout").map { e throws(Diagnostic) in try context.int(e, "timeout") } ?? 10
    var check = DatabaseCheck(host: host, port: port, user: user, password: password, databases: databases, timeoutSeconds: max(1, timeout))
    if let c = try statements.optionalPositional("connections") {
      guard case .map(let fields) = try context.value(c) else {
        throw Diagnostic.error("connections must be {nodes: N, datasources: N, max_active: N}", at: c.range)
      }
      func number(_ key: String) throws(Diagnostic) -> Int {
        guard let n = fields[key]?.intValue else { throw Diagnostic.error("connections needs '\(key)': a number", at: c.range) }
        return n
      }
      check.budget = ConnectionBudget(nodes: try number("nodes"), datasources: try number("datasources"), maxActive: try number("max_active"))
    }
    if let t = try statements.optionalPositional("tables") {
      guard case .list(let items) = try context.value(t) else { throw Diagnostic.error("tables must be a list", at: t.range) }
      check.tables = items.map(\.description)
    }
    return .database(check)
  }
}
