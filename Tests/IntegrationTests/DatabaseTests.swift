import Foundation
import Testing

extension Cluster {
  var socket: String { "\(sandbox.state)/hosts/host0/run-mysqld/mysqld.sock" }

  /// A query as MariaDB's administrator, over the database host's socket (not through dasprov).
  func admin(_ sql: String) async throws -> String {
    let r = try await sandbox.run("/usr/bin/mariadb", ["--socket=\(socket)", "--batch", "--skip-column-names", "-e", sql])
    guard r.status == 0 else { throw Sandbox.CommandFailed(output: r.stderr) }
    return r.stdout
  }

  /// Logs in over TCP as the DAS user, as a DAS node would.
  func login(_ password: String) async throws -> Bool {
    let r = try await sandbox.run("/usr/bin/mariadb", ["-h", sandbox.host("db1").address, "-u", "dasuser", "-e", "SHOW DATABASES"], environment: ["MYSQL_PWD": password])
    return r.status == 0 && r.stdout.contains("WSO2_ANALYTICS_EVENT_STORE_DB")
  }

  @Test func theDatabaseServerGetsItsDatabasesUserAndSchemaOnce() async throws {
    try await sandbox.reset()
    #expect(try await admin("SHOW DATABASES").contains("userdb") == false, "reset left a database behind")
    let r = try await sandbox.dasprov(["apply", sandbox.inventory])
    #expect(r.status == 0, "\(r.all)")
    let dbs = try await admin("SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA")
    for db in ["userdb\tlatin1", "regdb\tlatin1", "WSO2_ANALYTICS_EVENT_STORE_DB", "WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB"] {
      #expect(dbs.contains(db), "\(db) missing in \(dbs)")
    }
    // The fixture's dbscripts/mysql.sql creates 5 tables (REG_RESOURCE and UM_USER among them, which
    // the pre-flight looks for); it is loaded into both databases.
    let created = try String(contentsOfFile: "\(Sandbox.projectRoot)/sandbox/fixture/wso2das-3.1.0/dbscripts/mysql.sql", encoding: .utf8)
      .components(separatedBy: "CREATE TABLE").count - 1
    #expect(created == 5)
    #expect(try await admin("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='regdb'").trimmingCharacters(in: .whitespacesAndNewlines) == "\(created)")
    #expect(try await admin("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='userdb'").trimmingCharacters(in: .whitespacesAndNewlines) == "\(created)")
    #expect(try await login("Das-Sandbox-Pw1"))
    let grants = try await admin("SHOW GRANTS FOR 'dasuser'@'127.0.0.1'")
    #expect(grants.split(separator: "\n").filter { $0.contains("ALL PRIVILEGES") }.count == 4, "\(grants)")
    #expect(!grants.contains("ON *.* TO") || grants.contains("GRANT USAGE ON *.*"), "no global privileges: \(grants)")
    // Loading the schema again would fail on existing rows or duplicate work; the re-run does nothing.
    _ = try await admin("INSERT INTO regdb.REG_LOG (REG_PATH, REG_USER_ID, REG_LOGGED_TIME, REG_ACTION) VALUES ('/x', 'u', NOW(), 1)")
    let again = try await sandbox.dasprov(["apply", sandbox.inventory])
    #expect(again.status == 0)
    #expect(again.recap("db1")?["changed"] == 0, "\(again.stdout)")
    #expect(try await admin("SELECT COUNT(*) FROM regdb.REG_LOG").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
  }

  @Test func aNewPasswordReachesTheServerAndNeverAppearsOnACommandLine() async throws {
    try await sandbox.reset()
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    let password = "N3w<Pw>&\"'$(x)"
    let inventory = try sandbox.inventoryVariant("db-password.ini") {
      $0.replacingOccurrences(of: "db_password=Das-Sandbox-Pw1", with: "db_password='\(password.replacingOccurrences(of: "'", with: "\\'"))'")
    }
    // Watch every process's command line while the run goes on.
    let seen = Locked<[String]>([])
    let stop = Locked(false)
    let sampler = Thread {
      while !stop.value {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where entry.allSatisfy(\.isNumber) {
          if let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") {
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if line.contains("N3w<Pw>") { seen.set(seen.value + [line]) }
          }
        }
        usleep(5_000)
      }
    }
    sampler.start()
    let r = try await sandbox.dasprov(["apply", inventory, "-vvv"])
    stop.set(true)
    #expect(r.status == 0, "\(r.all)")
    #expect(seen.value.isEmpty, "the password appeared on a command line: \(seen.value)")
    #expect(!r.all.contains("N3w<Pw>"), "the password appeared in the output")
    #expect(try await login(password), "the new password does not work")
    #expect(try await !login("Das-Sandbox-Pw1"), "the old password still works")
    for log in try FileManager.default.contentsOfDirectory(atPath: "\(sandbox.state)/logs") {
      let text = (try? String(contentsOfFile: "\(sandbox.state)/logs/\(log)", encoding: .utf8)) ?? ""
      #expect(!text.contains("N3w<Pw>"), "the password is in \(log)")
    }
  }

  @Test func anUnreachableDatabaseStopsTheRunBeforeAnyRestart() async throws {
    try await sandbox.reset()
    #expect(try await sandbox.dasprov(["apply", sandbox.inventory]).status == 0)
    let inventory = try sandbox.inventoryVariant("db-down.ini") { $0.replacingOccurrences(of: "db_port=3306", with: "db_port=3399") }
    let began = Date()
    let r = try await sandbox.dasprov(["apply", inventory])
    #expect(r.status == 3, "\(r.all)")
    #expect(r.stdout.contains("pre-flight"), "\(r.stdout)")
    #expect(r.stdout.contains("3399"), "the failure names what failed: \(r.stdout)")
    for host in allHosts {
      #expect(startTimes(host).filter { $0.0 >= began }.isEmpty, "\(host) was restarted although the database is unreachable")
    }
    // Fixed: the next apply restarts every node, as their restarts stayed pending.
    let fixed = try await sandbox.dasprov(["apply", sandbox.inventory])
    #expect(fixed.status == 0, "\(fixed.all)")
    for host in allHosts { #expect(fixed.recap(host)?["restarted"] == 1, "\(host)") }
  }
}
