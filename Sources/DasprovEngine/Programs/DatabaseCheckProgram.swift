import DasprovShell
import DasprovTasks

/// database-check.sh: a pre-flight check from a DAS node: TCP to the database, then a login as
/// the DAS user and its databases (when a `mysql` client is installed there).
public struct DatabaseCheckProgram: Sendable {
  public var host: String
  public var port: Int
  public var user: String
  public var password: String
  public var databases: [String]
  public var timeoutSeconds: Int
  public var tables: [String]

  public init(host: String, port: Int, user: String, password: String, databases: [String], timeoutSeconds: Int, tables: [String] = []) {
    self.host = host
    self.port = port
    self.user = user
    self.password = password
    self.databases = databases
    self.timeoutSeconds = timeoutSeconds
    self.tables = tables
  }

  public init(_ check: DatabaseCheck) {
    self.init(
      host: check.host, port: check.port, user: check.user, password: check.password, databases: check.databases,
      timeoutSeconds: check.timeoutSeconds, tables: check.tables)
  }

  public var program: ShellProgram {
    var p = ShellProgram("database-check.sh")
    p.set("H", host)
    p.set("P", String(port))
    p.set("U", user)
    p.set("TO", String(timeoutSeconds))
    p.set("DBS", databases.joined(separator: " "))
    p.set("TABLES", tables.joined(separator: " "))
    let options = "[client]\nuser=\"\(Self.optionValue(user))\"\npassword=\"\(Self.optionValue(password))\"\nconnect-timeout=\(timeoutSeconds)"
    p.step("check_database", [], text: options)
    return p
  }

  /// The longest the program can take: three of its own timeouts, and time to report.
  public var timeout: Double { Double(timeoutSeconds) * 3 + 10 }

  /// A value for a MySQL option file, inside double quotes: one line whatever it holds (a raw
  /// newline would end the value there); the option file's own escapes keep every character.
  static func optionValue(_ value: String) -> String {
    var out = ""
    for ch in value.unicodeScalars {
      switch ch {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default: out.unicodeScalars.append(ch)
      }
    }
    return out
  }

  public enum Event: ProgramEvent, Hashable {
    case tcpOK
    /// No mysql client on the node: only TCP was checked.
    case noClient
    case loginOK
    case maxConnections(Int)
    case tableMissing(String)
    case ok
    case failed(String)

    public init?(_ line: ProgramLine) {
      switch line.tag {
      case "tcp-ok": self = .tcpOK
      case "no-client": self = .noClient
      case "login-ok": self = .loginOK
      case "max-connections":
        guard let n = Int(line.rest) else { return nil }
        self = .maxConnections(n)
      case "table-missing": self = .tableMissing(String(line.rest))
      case "ok": self = .ok
      case "fail": self = .failed(String(line.rest))
      default: return nil
      }
    }
  }
}
