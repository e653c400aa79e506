import DasprovCore
import DasprovDSL
import Foundation

/// `mysql`: databases, a user with its password and grants, and a schema loaded once — on the
/// database host, as its administrator (root over the local socket).
///
/// The database's state is read in the host's fact round trip (catalogue queries, no password
/// involved), and the schema file in its host's own fact round trip; the password is compared
/// by its `mysql_native_password` hash, computed on the controller. Changes are SQL fed on the `mysql` client's standard input inside the apply
/// script, so the password is never on a command line (`ps`) and never printed.
///
/// ```
/// task "DAS databases" mysql {
///   database "userdb" charset "latin1"
///   user db_user on db_client_host
///   password db_password
///   schema "{{ das_home }}/dbscripts/mysql.sql" from das_schema_host into ["userdb", "regdb"]
/// }
/// ```
public enum MySQLTask: TaskKind {
  public static let name = "mysql"
  public static let summary = "databases, a user with password and grants, a schema loaded once"
  public static let target: String? = nil
  public static let rules: [StatementRule] = [
    StatementRule("database", modifiers: ["charset"], repeatable: true, required: true, usage: "database \"userdb\" [charset \"latin1\"]"),
    StatementRule("user", modifiers: ["on"], required: true, usage: "user db_user on \"%\" (the client host pattern; a list for several)"),
    StatementRule("password", required: true, usage: "password db_password"),
    StatementRule("schema", modifiers: ["from", "into"], usage: "schema \"/path/mysql.sql\" from \"das-host\" into [\"userdb\", \"regdb\"]"),
    StatementRule("socket", usage: "socket \"/run/mysqld/mysqld.sock\" (the server's socket on the database host)"),
  ]

  /// What the server has now, from the catalogue query.
  struct State {
    var databases: [String: String] = [:]  // name → character set
    var users: [String: String] = [:]  // host → authentication string
    var grants: [String: Set<String>] = [:]  // "host\tschema" → privileges
    var tables: [String: Int] = [:]  // schema → table count
  }

  /// The privileges a schema grant must include for DAS (Carbon creates, alters and indexes tables).
  static let needed: Set<String> = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX"]

  struct Desired {
    var databases: [(name: String, charset: String?)]
    var user: String
    var hosts: [String]
    var password: String
    var schema: (path: String, fromHost: String, into: [String])?
    var socket: String?
  }

  public struct Arguments: TaskArguments {
    struct Database: Sendable {
      var name: Expr
      var charset: Expr?
    }

    /// `schema PATH from HOST into [databases]`.
    struct Schema: Sendable {
      var path: Expr
      var host: Expr
      var into: Expr
      var range: SourceRange
    }

    var databases: [Database]
    var user: Expr
    /// Client host patterns (`on`); `%` when not given.
    var clientHosts: Expr?
    var userRange: SourceRange
    var password: Expr
    var passwordRange: SourceRange
    var schema: Schema?
    var socket: Expr?

    /// The arguments evaluated for this host, and checked.
    func desired(_ c: TaskContext) throws(Diagnostic) -> Desired {
      var dbs: [(String, String?)] = []
      for db in databases {
        let name = try c.string(db.name, "database name")
        try checkName(name, db.name.range)
        let charset = try db.charset.map { e throws(Diagnostic) in try c.string(e, "charset") }
        if let charset, let e = db.charset { try checkName(charset, e.range) }
        dbs.append((name, charset))
      }
      let user = try c.string(self.user, "user")
      guard !user.isEmpty, user.count <= 80 else { throw Diagnostic.error("the database user name must be 1-80 characters", at: userRange) }
      var hosts = ["%"]
      if let clientHosts {
        switch try c.value(clientHosts) {
        case .list(let items): hosts = items.map(\.description)
        case let v: hosts = [v.description]
        }
      }
      let password = try c.string(self.password, "password")
      guard !password.isEmpty else { throw Diagnostic.error("the database password is empty", at: passwordRange) }
      var schema: (String, String, [String])?
      if let s = self.schema {
        let path = try c.path(s.path, "schema path")
        let host = try c.string(s.host, "schema host")
        guard case .list(let items) = try c.value(s.into) else { throw Diagnostic.error("'into' needs a list of databases", at: s.into.range) }
        schema = (path, host, items.map(\.description))
      }
      let socket = try self.socket.map { e throws(Diagnostic) in try c.path(e, "socket") }
      return Desired(databases: dbs, user: user, hosts: hosts, password: password, schema: schema, socket: socket)
    }

    public func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
      let d = try desired(context)
      // Whether the schema is needed depends on this host's catalogue: its host's survey sends
      // its stat and digest, and its bytes come in a round trip of their own only when a
      // database lacks it.
      let schema = d.schema.map { FactRequest(host: $0.fromHost, path: $0.path, needs: [.stat, .content]) }
      return (schema.map { [$0] } ?? [], [probe(d)])
    }

    public func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan {
      try MySQLTask.plan(desired(context), schemaRange: schema?.range ?? context.task.range, context: context)
    }
  }

  public static func decode(_ statements: Statements) throws(Diagnostic) -> Arguments {
    var databases: [Arguments.Database] = []
    for s in statements.each("database") {
      databases.append(Arguments.Database(name: try statements.positional(of: s), charset: s.modifier("charset")?.value))
    }
    let user = try statements.required("user")
    let password = try statements.required("password")
    var schema: Arguments.Schema?
    if let s = statements.first("schema") {
      guard let from = s.modifier("from"), let into = s.modifier("into") else {
        throw Diagnostic.error("schema needs 'from HOST' and 'into [databases]'", at: s.range)
      }
      schema = Arguments.Schema(path: try statements.positional(of: s), host: from.value, into: into.value, range: s.range)
    }
    return Arguments(
      databases: databases, user: try statements.positional(of: user), clientHosts: user.modifier("on")?.value,
      userRange: user.range, password: try statements.positional(of: password), passwordRange: password.range, schema: schema,
      socket: try statements.optionalPositional("socket"))
  }

  static func checkName(_ name: String, _ range: SourceRange) throws(Diagnostic) {
    guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" }) else {
      throw Diagnostic.error("'\(name)' is not a plain MySQL name (letters, digits, _ and $, at most 64)", at: range)
    }
  }

  static func client(_ d: Desired) -> [String] {
    ["mysql", "--batch", "--skip-column-names"] + (d.socket.map { ["--socket=\($0)"] } ?? [])
  }

  /// One query for everything: which databases exist, the user's hosts and hashes, its grants,
  /// and whether the schema is loaded.
  static func catalogueQuery(_ d: Desired) -> String {
    let dbList = d.databases.map { sqlString($0.name) }.joined(separator: ",")
    let schemaDbs = (d.schema?.into ?? []).map(sqlString).joined(separator: ",")
    // Several columns, not CONCAT: --batch separates columns with real tabs and escapes tabs
    // inside values, so a tab always means "next column".
    var q = "SELECT 'db', SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (\(dbList));"
    q += " SELECT 'user', Host, authentication_string FROM mysql.user WHERE User = \(sqlString(d.user));"
    q += " SELECT 'grant', GRANTEE, TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE LIKE \(sqlString("'" + d.user.replacingOccurrences(of: "'", with: "''") + "'@%"));"
    if !schemaDbs.isEmpty {
      q += " SELECT 'tables', TABLE_SCHEMA, COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (\(schemaDbs)) GROUP BY TABLE_SCHEMA;"
    }
    return q
  }

  static func probe(_ d: Desired) -> ProbeRequest {
    ProbeRequest(client(d) + ["--execute", catalogueQuery(d)], capture: true)
  }

  static func parse(_ output: [UInt8]) -> State {
    var state = State()
    for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
      // --batch escapes tabs inside values as "\t", so a real tab always separates fields.
      let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      switch f.first {
      case "db" where f.count >= 3: state.databases[f[1]] = f[2]
      case "user" where f.count >= 3: state.users[f[1]] = f[2]
      case "grant" where f.count >= 4:
        // GRANTEE is 'user'@'host'.
        let host = f[1].split(separator: "@").last.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "'")) } ?? ""
        // A grant on `a_b` may be stored as `a\_b` (a literal underscore); --batch doubles the backslash.
        state.grants["\(host)\t\(f[2].replacingOccurrences(of: "\\\\_", with: "_").replacingOccurrences(of: "\\_", with: "_"))", default: []].insert(f[3])
      case "tables" where f.count >= 3: state.tables[f[1]] = Int(f[2]) ?? 0
      default: continue
      }
    }
    return state
  }

  static func plan(_ d: Desired, schemaRange: SourceRange, context: TaskContext) throws(Diagnostic) -> TaskPlan {
    let p = probe(d)
    guard let facts = context.facts else { throw Diagnostic.error("internal: no facts", at: context.task.range) }
    guard facts.probes[p.argv] == 0, let output = facts.probeOutputs[p.argv] else {
      throw Diagnostic.error(
        "cannot query the MySQL server on \(context.hostName) as its administrator (is it running, and is 'mysql' there?)",
        at: context.task.range)
    }
    let state = parse(output)
    var sql: [String] = []
    var said: [String] = []
    for (name, charset) in d.databases {
      if let current = state.databases[name] {
        if let charset, current.lowercased() != charset.lowercased(), (state.tables[name] ?? 0) == 0 {
          sql.append("ALTER DATABASE \(ident(name)) CHARACTER SET \(charset);")
          said.append("set database \(name) to \(charset)")
        }
      } else {
        sql.append("CREATE DATABASE IF NOT EXISTS \(ident(name))\(charset.map { " CHARACTER SET \($0)" } ?? "");")
        said.append("create database \(name)")
      }
    }
    let hash = SHA1.mysqlNativePassword(d.password)
    for host in d.hosts {
      let account = "\(sqlString(d.user))@\(sqlString(host))"
      if let current = state.users[host] {
        if current != hash {
          sql.append("ALTER USER \(account) IDENTIFIED BY \(sqlString(d.password));")
          said.append("change the password of \(d.user)@\(host)")
        }
      } else {
        sql.append("CREATE USER \(account) IDENTIFIED BY \(sqlString(d.password));")
        said.append("create user \(d.user)@\(host)")
      }
      for (name, _) in d.databases where !(state.grants["\(host)\t\(name)"] ?? []).isSuperset(of: needed) {
        sql.append("GRANT ALL PRIVILEGES ON \(ident(name)).* TO \(account);")
        said.append("grant \(d.user)@\(host) all on \(name)")
      }
    }
    var changes: [Change] = []
    if !sql.isEmpty {
      changes.append(.run(argv: client(d), chdir: nil, stdin: Array(sql.joined(separator: "\n").utf8), label: "mysql: " + said.joined(separator: "; ")))
    }
    if let schema = d.schema {
      let missing = schema.into.filter { (state.tables[$0] ?? 0) == 0 }
      if !missing.isEmpty {
        let facts: PathFacts
        do throws(Diagnostic) { facts = try context.pathFactsWithContent(schema.path, on: schema.fromHost) } catch {
          throw Diagnostic.error("cannot read the schema \(schema.path) from \(schema.fromHost): \(error.message)", at: schemaRange)
        }
        guard facts.exists, let text = facts.content else {
          let why = facts.exists ? "it is over 1 MiB or unreadable" : "it does not exist"
          throw Diagnostic.error("cannot read the schema \(schema.path) from \(schema.fromHost): \(why)", at: schemaRange)
        }
        for db in missing {
          changes.append(.run(argv: client(d) + [db], chdir: nil, stdin: text, label: "mysql: load \(schema.path) from \(schema.fromHost) into \(db)"))
        }
      }
    }
    return TaskPlan(changes: changes)
  }

  /// A MySQL string literal; backslashes and quotes escaped (the default sql_mode).
  static func sqlString(_ s: String) -> String {
    "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
  }

  static func ident(_ s: String) -> String { "`" + s.replacingOccurrences(of: "`", with: "``") + "`" }
}
