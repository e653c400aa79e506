import Foundation
import Testing

@testable import DasprovXML

/// dasprov plans hosts on several threads at once. libxml2 state is per parser/XPath context
/// here, so parallel parses and edits must neither crash nor see each other's errors.
@Suite struct ConcurrencyTests {
  final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ s: String) { lock.withLock { list.append(s) } }
    var all: [String] { lock.withLock { list } }
  }

  struct Job: Sendable {
    var name: String
    var bytes: [UInt8]
    var ops: [XMLEditOperation]
    var expected: [UInt8]
    /// A broken document whose error line is unique to this thread.
    var broken: [UInt8]
    var brokenLine: Int
  }

  @Test func eightThreadsParseAndEditWithoutCrossTalk() throws {
    var jobs: [Job] = []
    let names = Pack.files + ["synthetic.xml"]
    for (i, name) in names.enumerated() {
      let bytes =
        name == "synthetic.xml" ? Array("<r>\n  <a>x</a>\n</r>\n".utf8) : try Pack.bytes(name)
      let root = "/" + (try ParsedXML(bytes: bytes, file: name).rootName)
      let ops: [XMLEditOperation] = [
        .setAttribute(xpath: root, name: "thread", value: "\(i)"),
        .ensureFragment(
          xpath: "\(root)/dasprovThread",
          fragment: "<dasprovThread n=\"\(i)\">t&lt;\(i)</dasprovThread>",
          position: .appendTo(parentXPath: root)),
      ]
      let expected = try XMLEditor.apply(ops, to: bytes, file: name).bytes
      let line = 2 + i
      let broken = Array(("<a>" + String(repeating: "\n", count: line - 1) + "<b></c></a>").utf8)
      jobs.append(
        Job(
          name: name, bytes: bytes, ops: ops, expected: expected, broken: broken, brokenLine: line))
    }

    let failures = Failures()
    let group = DispatchGroup()
    let iterations = 40
    for (i, job) in jobs.enumerated() {
      group.enter()
      let thread = Thread {
        defer { group.leave() }
        for n in 0..<iterations {
          do throws(XMLError) {
            let r = try XMLEditor.apply(job.ops, to: job.bytes, file: job.name)
            if r.bytes != job.expected { failures.add("\(job.name) #\(n): different bytes") }
            let doc = try ParsedXML(bytes: r.bytes, file: job.name)
            if try doc.values("//dasprovThread/@n") != ["\(i)"] {
              failures.add("\(job.name) #\(n): wrong value")
            }
          } catch {
            failures.add("\(job.name) #\(n): \(error)")
          }
          do throws(XMLError) {
            _ = try ParsedXML(bytes: job.broken, file: "broken-\(i).xml")
            failures.add("broken-\(i).xml parsed")
          } catch {
            let expected = "Opening and ending tag mismatch: b line \(job.brokenLine) and c"
            if error.file != "broken-\(i).xml" || error.line != job.brokenLine
              || error.message != expected
            {
              failures.add("thread \(i) saw someone else's error: \(error)")
            }
          }
          do throws(XMLError) {
            _ = try ParsedXML(bytes: job.bytes, file: job.name).values("/thread\(i)[")
            failures.add("invalid xpath accepted")
          } catch {
            if error.xpath != "/thread\(i)[" || !error.message.contains("/thread\(i)[") {
              failures.add("thread \(i) xpath error: \(error)")
            }
          }
        }
      }
      thread.stackSize = 4 << 20
      thread.start()
    }
    group.wait()
    #expect(failures.all == [])
  }
}
