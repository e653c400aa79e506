import Foundation
import Testing

/// XPath (or key) assertions for every seed step, on files read back from the hosts.
struct SeedChecks {
  let sandbox: Sandbox
  let roles: [String: [String]]
  let address: (String) -> String
  let offset: (String) -> Int
  var das = "/opt/wso2das-3.1.0"
  var link = "/opt/wso2das"
  var dbHost = "127.0.0.1"
  var dbPort = "3306"
  var dbUser = "dasuser"
  var dbPassword = "Das-Sandbox-Pw1"

  init(sandbox: Sandbox, roles: [String: [String]], address: @escaping (String) -> String, offset: @escaping (String) -> Int) {
    self.sandbox = sandbox
    self.roles = roles
    self.address = address
    self.offset = offset
  }

  func role(of host: String) -> String { roles.first { $0.value.contains(host) }!.key }
  var hosts: [String] { roles.values.flatMap { $0 }.sorted() }

  func x(_ host: String, _ file: String, _ expr: String) async throws -> String {
    try await sandbox.xpath(host, "\(das)/repository/conf/\(file)", expr)
  }

  func checkAll(sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for host in hosts {
      let role = role(of: host)
      let isAnalyzer = role == "analyzers"
      // Step 1: datasources, user store, registry.
      for (name, db) in [("WSO2UM_DB", "userdb"), ("WSO2REG_DB", "regdb")] {
        let base = "/datasources-configuration/datasources/datasource[name='\(name)']"
        #expect(try await x(host, "datasources/master-datasources.xml", "string(\(base)/jndiConfig/name)") == "jdbc/\(name)", sourceLocation: sourceLocation)
        #expect(try await x(host, "datasources/master-datasources.xml", "string(\(base)/definition/configuration/url)") == "jdbc:mysql://\(dbHost):\(dbPort)/\(db)", sourceLocation: sourceLocation)
        for (k, v) in [("username", dbUser), ("password", dbPassword), ("driverClassName", "com.mysql.jdbc.Driver"), ("maxActive", "50"), ("maxWait", "60000"), ("testOnBorrow", "true"), ("validationQuery", "SELECT 1"), ("validationInterval", "30000")] {
          #expect(try await x(host, "datasources/master-datasources.xml", "string(\(base)/definition/configuration/\(k))") == v, "\(host) \(name) \(k)", sourceLocation: sourceLocation)
        }
      }
      #expect(try await x(host, "datasources/master-datasources.xml", "count(/datasources-configuration/datasources/datasource[name='WSO2_CARBON_DB'])") == "1", sourceLocation: sourceLocation)
      for ds in ["WSO2_ANALYTICS_EVENT_STORE_DB", "WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB"] {
        let base = "/datasources-configuration/datasources/datasource[name='\(ds)']/definition/configuration"
        for (k, v) in [("url", "jdbc:mysql://\(dbHost):\(dbPort)/\(ds)"), ("username", dbUser), ("password", dbPassword), ("driverClassName", "com.mysql.jdbc.Driver"), ("maxActive", "50"), ("maxWait", "60000"), ("testOnBorrow", "true"), ("validationQuery", "SELECT 1"), ("validationInterval", "30000"), ("defaultAutoCommit", "false")] {
          #expect(try await x(host, "datasources/analytics-datasources.xml", "string(\(base)/\(k))") == v, "\(host) \(ds) \(k)", sourceLocation: sourceLocation)
        }
      }
      #expect(try await x(host, "user-mgt.xml", "string(/UserManager/Realm/Configuration/Property[@name='dataSource'])") == "jdbc/WSO2UM_DB", sourceLocation: sourceLocation)
      #expect(try await x(host, "registry.xml", "string(/wso2registry/dbConfig[@name='govregistry']/dataSource)") == "jdbc/WSO2REG_DB", sourceLocation: sourceLocation)
      #expect(try await x(host, "registry.xml", "string(/wso2registry/dbConfig[@name='wso2registry']/dataSource)") == "jdbc/WSO2CarbonDB", sourceLocation: sourceLocation)
      let ri = "/wso2registry/remoteInstance[id='gov']"
      #expect(try await x(host, "registry.xml", "string(\(ri)/@url)") == "https://localhost:\(9443 + offset(host))/registry", sourceLocation: sourceLocation)
      #expect(try await x(host, "registry.xml", "string(\(ri)/cacheId)") == "\(dbUser)@jdbc:mysql://\(dbHost):\(dbPort)/regdb", sourceLocation: sourceLocation)
      for (k, v) in [("dbConfig", "govregistry"), ("readOnly", "false"), ("enableCache", "true"), ("registryRoot", "/")] {
        #expect(try await x(host, "registry.xml", "string(\(ri)/\(k))") == v, sourceLocation: sourceLocation)
      }
      for path in ["/_system/governance", "/_system/config"] {
        let m = "/wso2registry/mount[@path='\(path)']"
        #expect(try await x(host, "registry.xml", "string(\(m)/@overwrite)") == "true", sourceLocation: sourceLocation)
        #expect(try await x(host, "registry.xml", "string(\(m)/instanceId)") == "gov", sourceLocation: sourceLocation)
        #expect(try await x(host, "registry.xml", "string(\(m)/targetPath)") == path, sourceLocation: sourceLocation)
      }
      // Step 2: Hazelcast.
      let c = "/axisconfig/clustering"
      #expect(try await x(host, "axis2/axis2.xml", "string(\(c)/@enable)") == "true", sourceLocation: sourceLocation)
      #expect(try await x(host, "axis2/axis2.xml", "string(\(c)/parameter[@name='membershipScheme'])") == "wka", sourceLocation: sourceLocation)
      #expect(try await x(host, "axis2/axis2.xml", "string(\(c)/parameter[@name='localMemberHost'])") == address(host), sourceLocation: sourceLocation)
      let members = try await x(host, "axis2/axis2.xml", "\(c)/members/member/hostName/text()").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
      let expected = isAnalyzer ? roles["analyzers"]!.map(address) : (roles["indexers"]! + roles["receivers"]!).map(address)
      #expect(Set(members) == Set(expected) && members.count == expected.count, "\(host) members \(members)", sourceLocation: sourceLocation)
      // Step 3: event processor.
      let ep = "/eventProcessorConfiguration"
      #expect(try await x(host, "event-processor.xml", "string(\(ep)/mode[@name='HA']/@enable)") == "true", sourceLocation: sourceLocation)
      #expect(try await x(host, "event-processor.xml", "string(\(ep)/mode[@name='Distributed']/@enable)") == "true", sourceLocation: sourceLocation)
      #expect(try await x(host, "event-processor.xml", "string(\(ep)/mode[@name='HA']/nodeType/presenter/@enable)") == (role == "presenters" ? "true" : "false"), "\(host) presenter", sourceLocation: sourceLocation)
      // A presenter presents only as a non-worker, on its own address; every HA member
      // advertises its own address to its peers (FACTS.md §10).
      #expect(try await x(host, "event-processor.xml", "string(\(ep)/mode[@name='HA']/nodeType/worker/@enable)") == (role == "presenters" ? "false" : "true"), "\(host) worker", sourceLocation: sourceLocation)
      #expect(try await x(host, "event-processor.xml", "string(\(ep)/mode[@name='HA']/eventSync/hostName)") == address(host), sourceLocation: sourceLocation)
      #expect(try await x(host, "event-processor.xml", "string(\(ep)/mode[@name='HA']/management/hostName)") == address(host), sourceLocation: sourceLocation)
      #expect(try await x(host, "event-processor.xml", "string(\(ep)/mode[@name='HA']/presentation/hostName)") == (role == "presenters" ? address(host) : "0.0.0.0"), sourceLocation: sourceLocation)
      #expect(try await x(host, "event-processor.xml", "string(\(ep)/mode[@name='HA']/presentation/port)") == (isAnalyzer ? "11002" : "11000"), sourceLocation: sourceLocation)
      // Step 4: Spark on analyzers only; the symlink everywhere; CARBON_HOME on RedHat only.
      let spark = sandbox.read(host, "\(das)/repository/conf/analytics/spark/spark-defaults.conf") ?? ""
      let sparkLines = spark.split(separator: "\n").map(String.init)
      #expect(sparkLines.contains("carbon.spark.master.count  2") == isAnalyzer, "\(host) master count", sourceLocation: sourceLocation)
      #expect(sparkLines.contains("carbon.das.symbolic.link \(link)") == isAnalyzer, "\(host) symbolic link", sourceLocation: sourceLocation)
      #expect(try FileManager.default.destinationOfSymbolicLink(atPath: sandbox.local(host, link)) == das, sourceLocation: sourceLocation)
      let script = (sandbox.read(host, "\(das)/bin/wso2server.sh") ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      let exports = script.indices.filter { script[$0].hasPrefix("export CARBON_HOME=") }
      let redHat = sandbox.host(host).osFamily == "RedHat" || isRedHat(host)
      if redHat {
        // Shell-quoted, always: the value is a word of the script, whatever it holds.
        let quoted = "'" + link.replacingOccurrences(of: "'", with: "'\\''") + "'"
        #expect(exports.count == 1 && script[exports[0]] == "export CARBON_HOME=\(quoted)", "\(host) exports", sourceLocation: sourceLocation)
        let computes = script.firstIndex { $0.hasPrefix("[ -z \"$CARBON_HOME\" ]") } ?? 0
        #expect((exports.first ?? .max) < computes, "\(host): the export must come before CARBON_HOME is computed", sourceLocation: sourceLocation)
      } else {
        #expect(exports.isEmpty, "\(host) is not RedHat but exports CARBON_HOME", sourceLocation: sourceLocation)
      }
      // The port offset.
      let carbonOffset = try await sandbox.run("/usr/bin/xmllint", ["--xpath", "string(/*[local-name()='Server']/*[local-name()='Ports']/*[local-name()='Offset'])", sandbox.local(host, "\(das)/repository/conf/carbon.xml")]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(carbonOffset == String(offset(host)), sourceLocation: sourceLocation)
    }
  }

  func isRedHat(_ host: String) -> Bool {
    let release = sandbox.read(host, "/etc/os-release") ?? ""
    return ["rhel", "centos", "rocky", "ol", "fedora", "almalinux"].contains { release.contains("ID=\($0)\n") || release.contains("ID=\"\($0)\"") }
  }

  /// Outside the seed's elements the pristine files are unchanged (compared element by element).
  static func expectOnlySeedElementsChanged(sandbox: Sandbox, hosts: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws {
    guard let pack = sandbox.dasPack else { return }
    let files = [
      "datasources/master-datasources.xml", "datasources/analytics-datasources.xml", "user-mgt.xml", "registry.xml",
      "axis2/axis2.xml", "event-processor.xml", "carbon.xml",
    ]
    let script = Sandbox.projectRoot + "/Tests/IntegrationTests/Scripts/outside_seed.py"
    for host in hosts {
      for file in files {
        let name = (file as NSString).lastPathComponent
        let r = try await sandbox.run("/usr/bin/python3", [script, name, "\(pack)/repository/conf/\(file)", sandbox.local(host, "/opt/wso2das-3.1.0/repository/conf/\(file)")])
        #expect(r.status == 0, "\(host) \(file) differs outside the seed's elements:\n\(r.stdout)\(r.stderr)", sourceLocation: sourceLocation)
      }
    }
  }
}
