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
      return .restart(
        RestartSpec(
          pidFile: pidFile, stop: stop, start: start, port: port, address: address, logFile: logFile,
          logLine: logLine, timeoutSeconds: timeout))
    }
  }
}

/// A pre-flight check, run on every host of its play before the first restart of a run.
public enum CheckAction: Sendable, Hashable {
  /// The database answers on TCP and, where a `mysql` client exists on the node, the DAS login
  /// works and every database is visible to it.
  case database(host: String, port: Int, user: String, password: String, databases: [String], timeoutSeconds: Int)
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
    return .database(host: host, port: port, user: user, password: password, databases: databases, timeoutSeconds: max(1, timeout))
  }
}
