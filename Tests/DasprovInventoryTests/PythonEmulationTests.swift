import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// Values that go through Ansible's `_parse_value` (literal_eval, then Ansible's coercions).
let literalInputs: [String] = [
  "1", "0", "00", "007", "07", "-5", "+5", "--5", "-(5)", "- 5", "1_000", "1__0", "1_", "0x1F", "0X1f",
  "0x_1f", "0o17", "0b101", "0b2", "0x", "1.5", "1.", ".5", "1e3", "1E-3", "1.e5", "1e", "1e+",
  "1_0.5_0", "07.5", "1j", "2.5J", "1+2j", "1-2j", "-1+2j", "1 + 2j", "1+2", "-1j", "0j", "1e999",
  "-1e999", "True", "False", "None", "true", "TRUE", "yes", "...", "....", "'quoted'", "\"dq\"",
  "'a' 'b'", "'a''b'", "'a' \"b\"", "'''tri'''", "\"\"\"tri\"\"\"", "'unterminated", "''", "\"\"",
  "r'\\d\\n'", "R'x'", "u'x'", "U\"x\"", "f'x'", "rb'x'", "'\\t\\n\\\\'", "'\\x41\\101\\u00e9'",
  "'\\N{BULLET}'", "'\\q'", "'\\x4'", "'é'", "[1,2]", "[1, 2,]", "[]", "[,]", "(1,2)", "(1,)",
  "()", "(1)", "1,2", "1,", "1, 2, 3", ",1", "{'a':1}", "{'a': 1, 'a': 2}", "{}", "{1: 'x'}",
  "{True: 1, 1: 2}", "{None: 1}", "{1.5: 2}", "{'a': [1, {'b': (2, 3)}]}", "{1}", "{1, 1.0, True}",
  "set()", "set( )", "set(1)", "frozenset()", "{'a'}", "{[1]: 2}", "{[1]}", "{(1, 2): 3}",
  "[1, [2, [3, [4]]]]", "1 # comment", "'x' # c", "# only comment", "1 2", "a b", "foo", "foo.bar",
  "foo()", "1 if True else 2", "not 1", "1 and 2", "1 + 1", "2 * 3", "[1] + [2]", "-True", "+None",
  "x=1", "a=b", "/opt/wso2das-3.1.0", "10.0.0.1", "http://x/y?z=1", "{{ var }}", "$HOME", "~",
  "café", "日本", "🚀", "'🚀'", "'\\U0001F680'", "lambda: 1", "[i for i in x]", "{**a}",
  "1e3j", "0_0", "0_7", "1.5e-7", "123456789012345678", "9223372036854775807", "0.1", "100.0",
  "1e16", "1e15", "1.0e-5", "0.0001", "-0.0", "  1", "\t2", "3  ", "[1,\t2]", "Ellipsis", "NaN",
  "inf", "'a' b", "b", "'a'.upper()", "('a')", "(('a'))", "[(1)]", "{'k': -1}", "{'k': -1j}",
  // Python's tokenizer refuses more than 200 open brackets (a SyntaxError: the text stays);
  // signs are not brackets. (200 are fine, but too deep for the oracle's JSON encoder.)
  String(repeating: "[", count: 201) + String(repeating: "]", count: 201),
  String(repeating: "([{'a':", count: 67) + "1" + String(repeating: "}])", count: 67),
  "[" + (1...900).map { "-\($0)" }.joined(separator: ", ") + "]",
]

@Suite("Python emulation")
struct PythonEmulationTests {
  @Test("INI values are typed exactly like Ansible's _parse_value (literal_eval)")
  func literalEvalMatchesAnsible() async throws {
    guard let tool = await oracleTool() else { return }
    let script = """
      import json, sys, warnings
      warnings.simplefilter("ignore")
      from ansible.plugins.inventory.ini import InventoryModule
      from ansible._internal._datatag._tags import Origin
      from ansible._internal._json._profiles import _inventory_legacy
      m = InventoryModule()
      m._origin = Origin(path='/x', line_num=1)
      for v in json.loads(sys.stdin.read()):
          try:
              r = m._parse_value(v)
              print(json.dumps({"ok": r}, cls=_inventory_legacy.Encoder, sort_keys=True))
          except Exception as e:
              print(json.dumps({"error": type(e).__name__}))
      """
    let results = try await runPython(tool, script, input: literalInputs.map(\.jsonQuoted))
    for (input, line) in zip(literalInputs, results) {
      guard case .map(let r)? = PyJSON.parse(line)?.0 else {
        Issue.record("unreadable oracle line for \(input): \(line)")
        continue
      }
      let ours = PyLiteral.outcome(input)
      if r["error"] != nil {
        guard case .error = ours else {
          Issue.record("\(input): Ansible fails (\(r["error"]!)), dasprov gives \(ours)")
          continue
        }
      } else {
        let value: Value
        switch ours {
        case .value(let v): value = v
        case .raw: value = .string(input)
        case .error(let m):
          Issue.record("\(input): dasprov fails (\(m)), Ansible gives \(r["ok"]!)")
          continue
        }
        if case .double(let d)? = r["ok"], d.isNaN { continue }
        #expect(value == r["ok"], "\(input)")
      }
    }
  }

  @Test("floats print like Python's repr")
  func floatReprMatchesPython() async throws {
    guard let tool = await oracleTool() else { return }
    var samples: [Double] = [
      0, -0.0, 1, 1.5, 0.1, 0.2 + 0.1, 100, 1e15, 1e16, 1.5e16, 123456789012345680, 1e-4, 1e-5,
      1.0e-7, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 2.5e-3, 1234.5678, 9007199254740992, 1e22, 1e21,
      0.000123, -7.25, 3.141592653589793, 2.0 / 3.0,
    ]
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<300 {
      let d = Double(bitPattern: rng.next())
      if d.isFinite { samples.append(d) }
    }
    let script = """
      import json, struct, sys
      for bits in json.loads(sys.stdin.read()):
          print(repr(struct.unpack('<d', struct.pack('<Q', int(bits)))[0]))
      """
    let reprs = try await runPython(tool, script, input: samples.map { "\"\($0.bitPattern)\"" })
    for (d, expected) in zip(samples, reprs) {
      #expect(PyFormat.floatRepr(d) == expected, "\(d.bitPattern)")
    }
  }

  @Test("shlex splitting", arguments: [
    ("a b  c", ["a", "b", "c"]),
    ("k=\"a b\" j='c d'", ["k=a b", "j=c d"]),
    ("a=b#c d", ["a=b"]),
    ("a #c", ["a"]),
    ("x=\"\" y=''", ["x=", "y="]),
    ("pre\"mid dle\"post", ["premid dlepost"]),
    ("e=a\\ b", ["e=a b"]),
    ("d=\"a\\\"b\\\\c\\d\"", ["d=a\"b\\c\\d"]),
    ("s='a\\b'", ["s=a\\b"]),
  ])
  func shlex(_ line: String, _ expected: [String]) throws {
    #expect(try Shlex.split(Array(line.unicodeScalars)).map(\.text) == expected)
  }

  @Test("shlex failures")
  func shlexFailures() {
    #expect(throws: Shlex.Failure.unclosedQuote(at: 2)) { try Shlex.split(Array("a=\"b".unicodeScalars)) }
    #expect(throws: Shlex.Failure.danglingEscape(at: 1)) { try Shlex.split(Array("a\\".unicodeScalars)) }
  }

  @Test("host words: ports, addresses and ranges", arguments: [
    ("web1", ["web1"], nil),
    ("web1:2222", ["web1"], "2222"),
    ("[2001:db8::1]:22", ["2001:db8::1"], "22"),
    ("fe80::1", ["fe80::1"], nil),
    ("10.0.0.[1:3]", ["10.0.0.1", "10.0.0.2", "10.0.0.3"], nil),
    ("das[01:03].x:22", ["das01.x", "das02.x", "das03.x"], "22"),
    ("n-[a:c]", ["n-a", "n-b", "n-c"], nil),
    ("s[1:7:3]", ["s1", "s4", "s7"], nil),
    ("foo:bar", ["foo:bar"], nil),
    ("foo_", ["foo_"], nil),
    ("h[3:1]", [], nil),
  ] as [(String, [String], String?)])
  func hostWords(_ word: String, _ names: [String], _ port: String?) throws {
    let e = try HostWord.expand(word)
    #expect(e.names == names)
    #expect(e.port == port)
  }

  @Test("YAML 1.1 scalars resolve as in PyYAML")
  func yamlScalars() {
    #expect(YAMLVarsReader.implicitKind("1e3") == "tag:yaml.org,2002:str")
    #expect(YAMLVarsReader.implicitKind("1.0e+3") == "tag:yaml.org,2002:float")
    #expect(YAMLVarsReader.implicitKind("No") == "tag:yaml.org,2002:bool")
    #expect(YAMLVarsReader.implicitKind("y") == "tag:yaml.org,2002:str")
    #expect(YAMLVarsReader.implicitKind("NULL") == "tag:yaml.org,2002:null")
    #expect(YAMLVarsReader.implicitKind("0o17") == "tag:yaml.org,2002:str")
    #expect(YAMLVarsReader.yamlInt("0777") == .int(511))
    #expect(YAMLVarsReader.yamlInt("-190:20:30") == .int(-685230))
    #expect(YAMLVarsReader.yamlInt("abc") == nil)
    #expect(YAMLVarsReader.yamlFloat("1:30.5") == 90.5)
    #expect(YAMLVarsReader.yamlTimestamp("2001-12-14 21:59:43.10 -5") == "2001-12-14T21:59:43.100000-05:00")
    #expect(YAMLVarsReader.yamlTimestamp("2001-02-30") == nil)
  }

  @Test("known differences: values Ansible keeps but dasprov represents differently")
  func documentedDifferences() {
    // Integers beyond 64 bits stay text (Ansible keeps a Python int).
    #expect(PyLiteral.outcome("123456789012345678901234567890") == .value(.string("123456789012345678901234567890")))
    // Bytes become plain text (Ansible shows them as {"__ansible_unsafe": ...} in --list).
    #expect(PyLiteral.outcome("b'raw'") == .value(.string("raw")))
  }
}

/// Runs a Python script in the oracle's venv, feeding a JSON list on stdin; one output line each.
func runPython(_ tool: String, _ script: String, input items: [String]) async throws -> [String] {
  let dir = try TemporaryDirectory()
  let inputPath = dir.write("input.json", "[" + items.joined(separator: ",") + "]")
  let python = (tool as NSString).deletingLastPathComponent + "/python"
  let out = await Oracle.inventory(python, ["-c", "import sys; sys.stdin = open(sys.argv[1]); " + "exec(sys.argv[2])", inputPath, script])
  try #require(out.status == 0, "\(out.stderr)")
  let lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
  try #require(lines.count == items.count, "expected \(items.count) lines, got \(lines.count): \(out.stderr)")
  return lines
}
