import Foundation
import Testing

/// `dasprov validate` and `topology` through the command line on inventories of their own: they
/// touch no host, so they need the binary but not the sandbox.
@Suite struct ValidateCommand {
  let runner: Sandbox

  init() throws {
    guard let binary = ProcessInfo.processInfo.environment["DASPROV_BIN"] else { throw Sandbox.SandboxMissing() }
    runner = Sandbox(state: "", hosts: [], binary: binary, dasPack: nil)
  }

  /// A copy of Inventories/fully-distributed.ini (edited by `edit`) in a scratch directory, with
  /// a stand-in connector at the path it names: `files/mysql-connector-java-5.1.49.jar`.
  final class Example {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dasprov-example-\(UUID().uuidString)").path
    var inventory: String { dir + "/fully-distributed.ini" }

    init(_ edit: (String) -> String = { $0 }) throws {
      try FileManager.default.createDirectory(atPath: dir + "/files", withIntermediateDirectories: true)
      let text = try String(contentsOfFile: Sandbox.projectRoot + "/Inventories/fully-distributed.ini", encoding: .utf8)
      try edit(text).write(toFile: inventory, atomically: true, encoding: .utf8)
      let driver: [UInt8] = [0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 50]  // a class file's magic and version: the shape, not a driver
      let jar = StoredZip.archive([("META-INF/MANIFEST.MF", Array("Manifest-Version: 1.0\r\n\r\n".utf8)), ("com/mysql/jdbc/Driver.class", driver)])
      try Data(jar).write(to: URL(fileURLWithPath: dir + "/files/mysql-connector-java-5.1.49.jar"))
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }
  }

  @Test func theProductionExampleValidatesAndShowsItsTopology() async throws {
    let example = try Example()
    let r = try await runner.dasprov(["validate", example.inventory])
    #expect(r.status == 0, "\(r.all)")
    #expect(r.stderr.isEmpty, "\(r.stderr)")
    #expect(r.stdout.hasPrefix("ok: 9 hosts, 5 plays, "), "\(r.stdout)")
    let t = try await runner.dasprov(["topology", example.inventory])
    #expect(t.status == 0 && t.stderr.isEmpty, "\(t.all)")
    #expect(t.stdout.contains("das-anl-01.prod.example.com (10.20.3.11): 9443 https"), "\(t.stdout)")
    #expect(t.stdout.contains("Database: das-db-01.prod.example.com (10.20.9.10)"), "\(t.stdout)")
  }

  @Test func aDollarBraceInThePasswordIsExitOneAtItsLine() async throws {
    let example = try Example { $0.replacingOccurrences(of: "db_password=change-me", with: "db_password=change-${user.home}") }
    let r = try await runner.dasprov(["validate", example.inventory])
    #expect(r.status == 1, "\(r.all)")
    #expect(r.stdout.isEmpty, "\(r.stdout)")
    // The example's own line for the password, so an edit above it does not break the test.
    let text = try String(contentsOfFile: example.inventory, encoding: .utf8)
    let line = try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("db_password=") }) + 1
    let hosts = "das-anl-01.prod.example.com, das-anl-02.prod.example.com, das-idx-01.prod.example.com, das-idx-02.prod.example.com and 4 more"
    #expect(r.stderr.replacingOccurrences(of: example.dir, with: "$DIR") == """
      $DIR/fully-distributed.ini:\(line):1: error: db_password contains '${': Carbon expands ${…} in repository/conf XML (the product would read it as a system property), and this value goes into repository/conf/datasources/master-datasources.xml; use a value without '${' (on hosts \(hosts))
      db_password=********
      ^~~~~~~~~~~~~~~~~~~~
      dasprov: 1 error; no host was touched

      """)
    #expect(!r.all.contains("change-"), "the password was printed")
  }
}

/// The smallest ZIP a JVM class loader reads: stored (uncompressed) entries and a central
/// directory, dated 1980-01-01.
enum StoredZip {
  static func archive(_ entries: [(name: String, data: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    for (name, data) in entries {
      let path = Array(name.utf8), crc = Int(crc32(data))
      // Version needed 1.0, no flags, stored, time 0, date 0x21; then CRC, sizes, name length.
      let common: [[UInt8]] = [le(10, 2), le(0, 2), le(0, 2), le(0, 2), le(0x21, 2), le(crc, 4), le(data.count, 4), le(data.count, 4), le(path.count, 2)]
      central += ([le(0x0201_4B50, 4), le(20, 2)] + common + [le(0, 2), le(0, 2), le(0, 2), le(0, 2), le(0, 4), le(out.count, 4), path]).flatMap { $0 }
      out += ([le(0x0403_4B50, 4)] + common + [le(0, 2), path, data]).flatMap { $0 }
    }
    let end: [[UInt8]] = [le(0x0605_4B50, 4), le(0, 2), le(0, 2), le(entries.count, 2), le(entries.count, 2), le(central.count, 4), le(out.count, 4), le(0, 2)]
    return out + central + end.flatMap { $0 }
  }

  /// `value` as `bytes` little-endian bytes.
  static func le(_ value: Int, _ bytes: Int) -> [UInt8] { (0..<bytes).map { UInt8((value >> (8 * $0)) & 0xFF) } }

  static func crc32(_ data: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in data {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
  }
}
