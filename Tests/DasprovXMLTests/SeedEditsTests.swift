import Testing

@testable import DasprovXML

/// The seed's edits (FACTS.md §3, CONTRACT.md rulings) on the pristine DAS 3.1.0 files.
/// Each result is read back by xmllint, not by the code that wrote it.
@Suite struct SeedEditsTests {
  func xmllint(_ expression: String, _ bytes: [UInt8]) async throws -> String {
    try await XMLLint.value(expression, in: bytes)
  }

  /// Every line break is CRLF: no LF without its CR.
  func allCRLF(_ b: [UInt8]) -> Bool {
    b.indices.allSatisfy { b[$0] != 0x0A || ($0 > 0 && b[$0 - 1] == 0x0D) }
  }

  static func members(_ hosts: [String]) -> String {
    hosts.map { "<member>\n    <hostName>\($0)</hostName>\n    <port>4000</port>\n</member>" }
      .joined(separator: "\n")
  }

  @Test(arguments: [
    ["10.0.0.21", "10.0.0.22"], ["10.0.0.11", "10.0.0.12", "10.0.0.1", "10.0.0.2"],
  ])
  func axis2Clustering(_ hosts: [String]) async throws {
    let name = "axis2/axis2.xml"
    let original = try Pack.bytes(name)
    let clustering = try onlySpan("/axisconfig/clustering", in: original)
    let ops: [XMLEditOperation] = [
      .setAttribute(
        xpath:
          "/axisconfig/clustering[@class='org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent']",
        name: "enable", value: "true"),
      .setText(xpath: "/axisconfig/clustering/parameter[@name='membershipScheme']", value: "wka"),
      .setText(xpath: "/axisconfig/clustering/parameter[@name='localMemberHost']", value: hosts[0]),
      .setChildren(xpath: "/axisconfig/clustering/members", fragment: Self.members(hosts)),
    ]
    let r = try applyChecked(ops, to: original, file: name, within: clustering.range)
    #expect(allCRLF(original) && allCRLF(r.bytes))
    #expect(try await xmllint("string(/axisconfig/clustering/@enable)", r.bytes) == "true")
    #expect(
      try await xmllint("string(/axisconfig/clustering/parameter[@name='membershipScheme'])", r.bytes)
        == "wka")
    #expect(
      try await xmllint("string(/axisconfig/clustering/parameter[@name='localMemberHost'])", r.bytes)
        == hosts[0])
    #expect(
      try await xmllint("count(/axisconfig/clustering/members/member)", r.bytes) == "\(hosts.count)")
    for (i, host) in hosts.enumerated() {
      #expect(
        try await xmllint("string(/axisconfig/clustering/members/member[\(i + 1)]/hostName)", r.bytes)
          == host)
      #expect(
        try await xmllint("string(/axisconfig/clustering/members/member[\(i + 1)]/port)", r.bytes)
          == "4000")
    }
    #expect(
      r.changes.map(\.description).prefix(3) == [
        "/axisconfig/clustering/@enable: 'false' → 'true'",
        "/axisconfig/clustering/parameter[@name='membershipScheme']: 'multicast' → 'wka'",
        "/axisconfig/clustering/parameter[@name='localMemberHost']: '127.0.0.1' → '\(hosts[0])'",
      ])
    // The new members sit where the old one did, with the file's indentation.
    #expect(
      r.bytes.text.contains(
        "        <members>\r\n            <member>\r\n                <hostName>\(hosts[0])</hostName>\r\n"
      ))
    #expect(try await XMLLint.parses(r.bytes))
  }

  @Test func eventProcessorModes() async throws {
    let name = "event-processor.xml"
    let original = try Pack.bytes(name)
    let from = try onlySpan("/eventProcessorConfiguration/mode[@name='HA']", in: original).start
    let to = try onlySpan("/eventProcessorConfiguration/mode[@name='Distributed']", in: original)
      .end
    let ops: [XMLEditOperation] = [
      .setAttribute(
        xpath: "/eventProcessorConfiguration/mode[@name='HA']", name: "enable", value: "true"),
      .setAttribute(
        xpath: "/eventProcessorConfiguration/mode[@name='Distributed']", name: "enable",
        value: "true"),
      .setText(
        xpath: "/eventProcessorConfiguration/mode[@name='HA']/nodeType/presenter/@enable",
        value: "true"),
      .setText(
        xpath: "/eventProcessorConfiguration/mode[@name='HA']/presentation/port", value: "11002"),
      .setText(
        xpath: "/eventProcessorConfiguration/mode[@name='HA']/eventSync/hostName", value: "10.0.0.1"
      ),
      .setAttribute(
        xpath: "/eventProcessorConfiguration/mode[@name='HA']/persistence", name: "enable",
        value: "false"),
    ]
    let r = try applyChecked(ops, to: original, file: name, within: from..<to)
    let ha = "/eventProcessorConfiguration/mode[@name='HA']"
    #expect(try await xmllint("string(\(ha)/@enable)", r.bytes) == "true")
    #expect(
      try await xmllint("string(/eventProcessorConfiguration/mode[@name='Distributed']/@enable)", r.bytes)
        == "true")
    #expect(try await xmllint("string(\(ha)/nodeType/presenter/@enable)", r.bytes) == "true")
    #expect(
      try await xmllint(
        "string(/eventProcessorConfiguration/mode[@name='Distributed']/nodeType/presenter/@enable)",
        r.bytes) == "false")
    #expect(try await xmllint("string(\(ha)/presentation/port)", r.bytes) == "11002")
    #expect(try await xmllint("string(\(ha)/eventSync/hostName)", r.bytes) == "10.0.0.1")
    #expect(try await xmllint("string(\(ha)/persistence/@enable)", r.bytes) == "false")
    // The self-closing presenter stays self-closing.
    #expect(
      r.bytes.text.contains(
        "            <presenter enable=\"true\"/>\n        </nodeType>\n        <checkMemberUpdateInterval>"
      ))
    #expect(r.changes.count == 6)
  }

  @Test func userStoreDataSource() async throws {
    let name = "user-mgt.xml"
    let original = try Pack.bytes(name)
    let xpath = "/UserManager/Realm/Configuration/Property[@name='dataSource']"
    let r = try applyChecked(
      [.setText(xpath: xpath, value: "jdbc/WSO2UM_DB")], to: original, file: name,
      within: try onlySpan(xpath, in: original).range)
    #expect(try await xmllint("string(\(xpath))", r.bytes) == "jdbc/WSO2UM_DB")
    #expect(
      r.bytes.count == original.count + "jdbc/WSO2UM_DB".utf8.count - "jdbc/WSO2CarbonDB".utf8.count
    )
  }

  /// The seed's registry snippet, tabs and all, with the contract's cacheId and URL.
  static let registryFragments: [(xpath: String, fragment: String)] = [
    (
      "/wso2registry/dbConfig[@name='govregistry']",
      "<dbConfig name=\"govregistry\">\n\t<dataSource>jdbc/WSO2REG_DB</dataSource>\n</dbConfig>"
    ),
    (
      "/wso2registry/remoteInstance[@url='https://localhost:9443/registry']",
      """
      <remoteInstance url="https://localhost:9443/registry">
      \t<id>gov</id>
      \t<cacheId>das&amp;user@jdbc:mysql://db.example:3306/regdb</cacheId>
      \t<dbConfig>govregistry</dbConfig>
      \t<readOnly>false</readOnly>
      \t<enableCache>true</enableCache>
      \t<registryRoot>/</registryRoot>
      </remoteInstance>
      """
    ),
    (
      "/wso2registry/mount[@path='/_system/governance']",
      "<mount path=\"/_system/governance\" overwrite=\"true\">\n\t<instanceId>gov</instanceId>\n\t<targetPath>/_system/governance</targetPath>\n</mount>"
    ),
    (
      "/wso2registry/mount[@path='/_system/config']",
      "<mount path=\"/_system/config\" overwrite=\"true\">\n\t<instanceId>gov</instanceId>\n\t<targetPath>/_system/config</targetPath>\n</mount>"
    ),
  ]

  @Test func registryMounts() async throws {
    let name = "registry.xml"
    let original = try Pack.bytes(name)
    let anchor = try onlySpan("/wso2registry/indexingConfiguration", in: original)
    let ops = Self.registryFragments.map {
      XMLEditOperation.ensureFragment(
        xpath: $0.xpath, fragment: $0.fragment,
        position: .before(xpath: "/wso2registry/indexingConfiguration"))
    }
    // Pure insertion just before the indexingConfiguration line: the rest is untouched.
    let lineStart = Lines.lineStart(original, anchor.start)
    let r = try applyChecked(ops, to: original, file: name, within: lineStart..<lineStart)
    #expect(
      r.bytes.starts(with: Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n\n<!--".utf8)))
    #expect(
      try await xmllint("string(/wso2registry/dbConfig[@name='govregistry']/dataSource)", r.bytes)
        == "jdbc/WSO2REG_DB")
    #expect(
      try await xmllint("string(/wso2registry/dbConfig[@name='wso2registry']/dataSource)", r.bytes)
        == "jdbc/WSO2CarbonDB")
    #expect(
      try await xmllint("string(/wso2registry/remoteInstance/cacheId)", r.bytes)
        == "das&user@jdbc:mysql://db.example:3306/regdb")
    #expect(
      try await xmllint("string(/wso2registry/remoteInstance/@url)", r.bytes)
        == "https://localhost:9443/registry")
    #expect(try await xmllint("count(/wso2registry/mount)", r.bytes) == "2")
    #expect(
      try await xmllint("string(/wso2registry/mount[@path='/_system/config']/targetPath)", r.bytes)
        == "/_system/config")
    #expect(
      try await xmllint("string(/wso2registry/mount[@path='/_system/governance']/@overwrite)", r.bytes)
        == "true")
    #expect(
      try await xmllint("name(/wso2registry/indexingConfiguration/preceding-sibling::*[1])", r.bytes)
        == "mount")
    // Tabs became the file's four-space levels.
    #expect(
      r.bytes.text.contains(
        "\n    <mount path=\"/_system/config\" overwrite=\"true\">\n        <instanceId>gov</instanceId>\n        <targetPath>/_system/config</targetPath>\n    </mount>\n    <indexingConfiguration>"
      ))
    #expect(r.changes.map(\.kind) == [.inserted, .inserted, .inserted, .inserted])
    // Paths carry a predicate only where same-named siblings exist at that moment.
    #expect(
      r.changes.map(\.path) == [
        "/wso2registry/dbConfig[@name='govregistry']", "/wso2registry/remoteInstance",
        "/wso2registry/mount",
        "/wso2registry/mount[@path='/_system/config']",
      ])
  }

  static func datasource(_ name: String, _ db: String, password: String) -> String {
    """
    <datasource>
        <name>\(name)</name>
        <description>The datasource used by \(name == "WSO2UM_DB" ? "user manager" : "the registry")</description>
        <jndiConfig>
            <name>jdbc/\(name)</name>
        </jndiConfig>
        <definition type="RDBMS">
            <configuration>
                <url>jdbc:mysql://db.example:3306/\(db)</url>
                <username>das</username>
                <password>\(password)</password>
                <driverClassName>com.mysql.jdbc.Driver</driverClassName>
                <maxActive>50</maxActive>
                <maxWait>60000</maxWait>
                <testOnBorrow>true</testOnBorrow>
                <validationQuery>SELECT 1</validationQuery>
                <validationInterval>30000</validationInterval>
            </configuration>
        </definition>
    </datasource>
    """
  }

  @Test func masterDatasourcesGainSharedDatabases() async throws {
    let name = "datasources/master-datasources.xml"
    let original = try Pack.bytes(name)
    let carbon = try onlySpan(
      "/datasources-configuration/datasources/datasource[name='WSO2_CARBON_DB']", in: original)
    let ds = "/datasources-configuration/datasources/datasource"
    // The template layer escapes values; this is `a<b&c"d'` escaped for text.
    let escaped = "a&lt;b&amp;c\"d'"
    let ops: [XMLEditOperation] = [
      .ensureFragment(
        xpath: "\(ds)[name='WSO2UM_DB']",
        fragment: Self.datasource("WSO2UM_DB", "userdb", password: escaped),
        position: .after(xpath: "\(ds)[name='WSO2_CARBON_DB']")),
      .ensureFragment(
        xpath: "\(ds)[name='WSO2REG_DB']",
        fragment: Self.datasource("WSO2REG_DB", "regdb", password: escaped),
        position: .after(xpath: "\(ds)[name='WSO2UM_DB']")),
    ]
    let r = try applyChecked(ops, to: original, file: name, within: carbon.end..<carbon.end)
    #expect(try await xmllint("count(\(ds))", r.bytes) == "3")
    #expect(try await xmllint("string(\(ds)[2]/name)", r.bytes) == "WSO2UM_DB")
    #expect(try await xmllint("string(\(ds)[3]/name)", r.bytes) == "WSO2REG_DB")
    #expect(
      try await xmllint("string(\(ds)[name='WSO2UM_DB']/jndiConfig/name)", r.bytes) == "jdbc/WSO2UM_DB")
    #expect(
      try await xmllint("string(\(ds)[name='WSO2REG_DB']/definition/configuration/url)", r.bytes)
        == "jdbc:mysql://db.example:3306/regdb")
    #expect(
      try await xmllint("string(\(ds)[name='WSO2REG_DB']/definition/configuration/password)", r.bytes)
        == "a<b&c\"d'")
    #expect(
      try await xmllint("string(\(ds)[name='WSO2_CARBON_DB']/jndiConfig/name)", r.bytes)
        == "jdbc/WSO2CarbonDB")
    #expect(
      r.bytes.text.contains(
        "        </datasource>\n        <datasource>\n            <name>WSO2UM_DB</name>\n"))

    // A changed password (re-rendered fragment) replaces just that datasource.
    let rotated = ops.map { op -> XMLEditOperation in
      guard case .ensureFragment(let x, let f, let p) = op else { return op }
      return .ensureFragment(
        xpath: x, fragment: f.replacingOccurrences(of: escaped, with: "n3w"), position: p)
    }
    let um = try onlySpan("\(ds)[name='WSO2UM_DB']", in: r.bytes)
    let reg = try onlySpan("\(ds)[name='WSO2REG_DB']", in: r.bytes)
    let again = try applyChecked(rotated, to: r.bytes, file: name, within: um.start..<reg.end)
    #expect(again.changes.map(\.kind) == [.replaced, .replaced])
    #expect(
      try await xmllint("string(\(ds)[name='WSO2UM_DB']/definition/configuration/password)", again.bytes)
        == "n3w")
  }

  @Test func analyticsDatasourcesPointAtMySQL() async throws {
    let name = "datasources/analytics-datasources.xml"
    let original = try Pack.bytes(name)
    let block = try onlySpan("/datasources-configuration/datasources", in: original)
    var ops: [XMLEditOperation] = []
    for store in ["WSO2_ANALYTICS_EVENT_STORE_DB", "WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB"] {
      let conf =
        "/datasources-configuration/datasources/datasource[name='\(store)']/definition[@type='RDBMS']/configuration"
      ops += [
        .setText(
          xpath: "\(conf)/url",
          value: "jdbc:mysql://db.example:3306/\(store)?useSSL=false&autoReconnect=true"),
        .setText(xpath: "\(conf)/username", value: "das"),
        .setText(xpath: "\(conf)/password", value: "a<b&c\"d'"),
        .setText(xpath: "\(conf)/driverClassName", value: "com.mysql.jdbc.Driver"),
        .ensureElement(path: "\(conf)/testOnBorrow"),
        .setText(xpath: "\(conf)/testOnBorrow", value: "true"),
        .ensureElement(path: "\(conf)/validationInterval"),
        .setText(xpath: "\(conf)/validationInterval", value: "30000"),
      ]
    }
    let r = try applyChecked(ops, to: original, file: name, within: block.range)
    for store in ["WSO2_ANALYTICS_EVENT_STORE_DB", "WSO2_ANALYTICS_PROCESSED_DATA_STORE_DB"] {
      let conf =
        "/datasources-configuration/datasources/datasource[name='\(store)']/definition/configuration"
      #expect(
        try await xmllint("string(\(conf)/url)", r.bytes)
          == "jdbc:mysql://db.example:3306/\(store)?useSSL=false&autoReconnect=true")
      #expect(try await xmllint("string(\(conf)/password)", r.bytes) == "a<b&c\"d'")
      #expect(try await xmllint("string(\(conf)/driverClassName)", r.bytes) == "com.mysql.jdbc.Driver")
      #expect(try await xmllint("string(\(conf)/testOnBorrow)", r.bytes) == "true")
      #expect(try await xmllint("string(\(conf)/validationInterval)", r.bytes) == "30000")
      #expect(
        try await xmllint("string(\(conf)/defaultTransactionIsolation)", r.bytes) == "READ_COMMITTED")
      #expect(try await xmllint("string(\(conf)/initialSize)", r.bytes) == "0")
    }
    #expect(
      r.bytes.text.contains(
        "<url>jdbc:mysql://db.example:3306/WSO2_ANALYTICS_EVENT_STORE_DB?useSSL=false&amp;autoReconnect=true</url>"
      ))
    #expect(
      r.bytes.text.contains(
        "                    <defaultTransactionIsolation>READ_COMMITTED</defaultTransactionIsolation>\n                    <testOnBorrow>true</testOnBorrow>\n                    <validationInterval>30000</validationInterval>\n                </configuration>"
      ))
  }

  @Test func carbonOffsetAndDeploymentSynchronizer() async throws {
    let name = "carbon.xml"
    let original = try Pack.bytes(name)
    let from = try onlySpan("/Server/Ports/Offset", in: original).start
    let to = try onlySpan("/Server/DeploymentSynchronizer", in: original).end
    let dep = "/Server/DeploymentSynchronizer"
    let ops: [XMLEditOperation] = [
      .setText(xpath: "/Server/Ports/Offset", value: "2"),
      .setText(xpath: "\(dep)/Enabled", value: "true"),
      .setText(xpath: "\(dep)/AutoCommit", value: "true"),
      .setText(xpath: "\(dep)/AutoCheckout", value: "true"),
      .setText(xpath: "\(dep)/SvnUrl", value: "http://svn.example/repos/das/"),
      .setText(xpath: "\(dep)/SvnUser", value: "svnuser"),
      .setText(xpath: "\(dep)/SvnPassword", value: "p&ss<w>rd"),
    ]
    let r = try applyChecked(ops, to: original, file: name, within: from..<to)
    func carbon(_ path: String) -> String {
      "string(" + path.split(separator: "/").map { "/*[local-name()='\($0)']" }.joined() + ")"
    }
    #expect(try await xmllint(carbon("Server/Ports/Offset"), r.bytes) == "2")
    #expect(try await xmllint(carbon("Server/DeploymentSynchronizer/Enabled"), r.bytes) == "true")
    #expect(try await xmllint(carbon("Server/DeploymentSynchronizer/AutoCommit"), r.bytes) == "true")
    #expect(
      try await xmllint(carbon("Server/DeploymentSynchronizer/SvnUrl"), r.bytes)
        == "http://svn.example/repos/das/")
    #expect(
      try await xmllint(carbon("Server/DeploymentSynchronizer/SvnPassword"), r.bytes) == "p&ss<w>rd")
    #expect(
      try await xmllint("namespace-uri(/*)", r.bytes) == "http://wso2.org/projects/carbon/carbon.xml")
    #expect(r.bytes.starts(with: Array("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n".utf8)))
    #expect(
      r.changes.first == XMLChange(path: "/Server/Ports/Offset", kind: .text, old: "0", new: "2"))
    // The commented-out registry-based DeploymentSynchronizer is not an element: untouched.
    #expect(r.bytes.text.contains("<!--<DeploymentSynchronizer>\n        <Enabled>true</Enabled>"))
  }
}
