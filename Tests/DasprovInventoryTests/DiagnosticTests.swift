import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// One malformed inventory and the exact text dasprov prints for it.
struct ErrorCase: CustomTestStringConvertible, Sendable {
  var file: String
  var input: String
  var expected: String
  var testDescription: String { file }
}

/// Each case loads into its own `Reporting`, so the quoted lines are the ones it parsed.
let errorCases: [ErrorCase] = [
  ErrorCase(
    file: "header-open.ini", input: "[web]\nh1\n[db\nh2\n",
    expected: """
      header-open.ini:3:1: error: malformed section header: expected ']'
      [db
      ^~~

      """),
  ErrorCase(
    file: "header-space.ini", input: "[web servers]\nh1\n",
    expected: """
      header-space.ini:1:5: error: malformed section header: group names cannot contain spaces
      [web servers]
          ^

      """),
  ErrorCase(
    file: "header-empty.ini", input: "[]\nh1\n",
    expected: """
      header-empty.ini:1:2: error: malformed section header: expected a group name after '['
      []
       ^

      """),
  ErrorCase(
    file: "header-colons.ini", input: "[a:b:c]\n",
    expected: """
      header-colons.ini:1:5: error: malformed section header: expected [NAME], [NAME:vars] or [NAME:children]
      [a:b:c]
          ^

      """),
  ErrorCase(
    file: "header-trailing.ini", input: "[web] ; the web servers\nh1\n",
    expected: """
      header-trailing.ini:1:6: error: malformed section header: only a '#' comment may follow ']'
      [web] ; the web servers
           ^

      """),
  ErrorCase(
    file: "unknown-type.ini", input: "[web:var]\nh1\n",
    expected: """
      unknown-type.ini:1:6: error: unknown section type 'var' in [web:var]: expected [web], [web:vars] or [web:children] (did you mean 'vars'?)
      [web:var]
           ^~~

      """),
  ErrorCase(
    file: "undefined-child.ini",
    input: "[das:children]\nrecievers\nindexers\n[receivers]\nr1\n[indexers]\ni1\n",
    expected: """
      undefined-child.ini:2:1: error: [das:children] includes undefined group 'recievers' (did you mean 'receivers'?)
      recievers
      ^~~~~~~~~

      """),
  ErrorCase(
    file: "vars-undefined.ini", input: "[web]\nh1\n[wbe:vars]\nx=1\n",
    expected: """
      vars-undefined.ini:3:2: error: [wbe:vars] is for undefined group 'wbe': declare it with [wbe] or list it in a [GROUP:children] section (did you mean 'web'?)
      [wbe:vars]
       ^~~

      """),
  ErrorCase(
    file: "cycle.ini", input: "[a:children]\nb\n[b:children]\nc\n[c:children]\na\n",
    expected: """
      cycle.ini:6:1: error: cycle in group children: c -> a -> b -> c
      a
      ^

      """),
  ErrorCase(
    file: "self-child.ini", input: "[a]\nh\n[a:children]\na\n",
    expected: """
      self-child.ini:4:1: error: group 'a' cannot be a child of itself
      a
      ^

      """),
  ErrorCase(
    file: "bad-ranges.ini", input: "db[01:8].x\nn[a:5]\nm[1:3\nk[3:1:0]\nz[1]\n",
    expected: """
      bad-ranges.ini:1:1: error: bad host range '[01:8]': a zero-padded begin needs an end of the same width
      db[01:8].x
      ^~~~~~~~~~
      bad-ranges.ini:2:1: error: bad host range '[a:5]': 'a' is not a number, and letter ranges take single letters like [a:f]
      n[a:5]
      ^~~~~~
      bad-ranges.ini:3:1: error: host range is missing its closing ']'
      m[1:3
      ^~~~~
      bad-ranges.ini:4:1: error: bad host range '[3:1:0]': the step must not be zero
      k[3:1:0]
      ^~~~~~~~
      bad-ranges.ini:5:1: error: bad host range '[1]': expected [begin:end] or [begin:end:step]
      z[1]
      ^~~~

      """),
  ErrorCase(
    file: "vars-no-equals.ini", input: "[web]\nh1\n[web:vars]\nhttp_port 8080\n",
    expected: """
      vars-no-equals.ini:4:1: error: expected 'name=value' in [web:vars], got 'http_port 8080'
      http_port 8080
      ^~~~~~~~~~~~~~

      """),
  ErrorCase(
    file: "host-var-no-equals.ini", input: "[web]\nh1 ansible_host\n",
    expected: """
      host-var-no-equals.ini:2:4: error: expected key=value after the host name, got 'ansible_host'
      h1 ansible_host
         ^~~~~~~~~~~~

      """),
  ErrorCase(
    file: "unterminated.ini", input: "h1 a=\"b c\n",
    expected: """
      unterminated.ini:1:6: error: unterminated quote in host line: expected a closing quote
      h1 a="b c
           ^

      """),
  ErrorCase(
    file: "trailing-colon.ini", input: "h1:\n",
    expected: """
      trailing-colon.ini:1:1: error: host 'h1:' ends in ':': expected a port number after ':'
      h1:
      ^~~

      """),
  ErrorCase(
    file: "priority.ini", input: "[g]\nh\n[g:vars]\nansible_group_priority=high\n",
    expected: """
      priority.ini:4:1: error: ansible_group_priority must be an integer, got string 'high'
      ansible_group_priority=high
      ^~~~~~~~~~~~~~~~~~~~~~~~~~~

      """),
  ErrorCase(
    file: "unhashable.ini", input: "h1 x=\"{[1]: 2}\"\n",
    expected: """
      unhashable.ini:1:4: error: cannot read the value of 'x': unhashable type: 'list'
      h1 x="{[1]: 2}"
         ^~~~~~~~~~~~

      """),
  ErrorCase(
    file: "yaml-inventory.ini", input: "---\nall:\n  hosts:\n    h1:\n",
    expected: """
      yaml-inventory.ini:1:1: error: '---' is not a host name: this looks like a YAML inventory, and dasprov reads INI inventories
      ---
      ^~~

      """),
  ErrorCase(
    file: "child-two-words.ini", input: "[p:children]\na b\n[a]\n",
    expected: """
      child-two-words.ini:2:1: error: expected one group name per line in [p:children], got 'a b'
      a b
      ^~~

      """),
  ErrorCase(
    file: "several.ini", input: "h1 x=\"a\n[db\n[web:foo]\n[p:children]\nnope\n",
    expected: """
      several.ini:1:6: error: unterminated quote in host line: expected a closing quote
      h1 x="a
           ^
      several.ini:2:1: error: malformed section header: expected ']'
      [db
      ^~~
      several.ini:3:6: error: unknown section type 'foo' in [web:foo]: expected [web], [web:vars] or [web:children]
      [web:foo]
           ^~~
      several.ini:5:1: error: [p:children] includes undefined group 'nope'
      nope
      ^~~~

      """),
  ErrorCase(
    file: "unicode-columns.ini", input: "[ünï]\nsérveur ünï\n",
    expected: """
      unicode-columns.ini:2:9: error: expected key=value after the host name, got 'ünï'
      sérveur ünï
              ^~~

      """),
]

@Suite("diagnostics")
struct DiagnosticTests {
  @Test("malformed inventories are errors with the exact rendered text", arguments: errorCases)
  func renderedErrors(_ c: ErrorCase) {
    let reporting = Reporting()
    do {
      let result = try InventoryLoader.parse(text: c.input, file: c.file, reporting: reporting)
      Issue.record("\(c.file) was accepted with hosts \(result.inventory.hosts.map(\.name))")
    } catch {
      #expect(error.hasErrors)
      #expect(reporting.renderer(color: false).render(error.diagnostics) == c.expected)
    }
  }

  @Test("questionable but accepted input gives warnings, the later value winning")
  func warnings() throws {
    let text = "[g]\nh1:22 x=1\nh1:23 x=2\n[g:vars]\ny=1\ny=2\n[das-nodes]\nd1\n[h1]\n"
    let reporting = Reporting()
    let (inventory, warnings) = try InventoryLoader.parse(text: text, file: "warnings.ini", reporting: reporting)
    #expect(inventory.host(named: "h1")?.vars["x"] == .int(2))
    #expect(inventory.host(named: "h1")?.vars["y"] == .int(2))
    #expect(inventory.host(named: "h1")?.vars["ansible_port"] == .int(22))
    #expect(
      reporting.renderer(color: false).render(warnings) == """
        warnings.ini:3:1: warning: port 23 ignored: host 'h1' was declared before, and Ansible only takes the port from the first declaration
        h1:23 x=2
        ^~~~~
        warnings.ini:2:1: note: first declared here
        h1:22 x=1
        ^~~~~
        warnings.ini:3:7: warning: variable 'x' of host 'h1' is set again; the later value wins, as in Ansible
        h1:23 x=2
              ^~~
        warnings.ini:2:7: note: previously set here
        h1:22 x=1
              ^~~
        warnings.ini:6:1: warning: variable 'y' of group 'g' is set again; the later value wins, as in Ansible
        y=2
        ^~~
        warnings.ini:5:1: note: previously set here
        y=1
        ^~~
        warnings.ini:7:2: warning: group name 'das-nodes' has characters that are not valid in a variable name; Ansible keeps it and warns too
        [das-nodes]
         ^~~~~~~~~
        warnings.ini:9:2: warning: 'h1' is both a group and a host
        [h1]
         ^~
        warnings.ini:2:1: note: host declared here
        h1:22 x=1
        ^~~~~

        """)
  }

  @Test("an empty file is an empty inventory, not an error")
  func emptyFile() throws {
    let (inventory, warnings) = try InventoryLoader.parse(text: "# nothing yet\n", file: "empty.ini")
    #expect(inventory.hosts.isEmpty)
    #expect(warnings.isEmpty)
    #expect(inventory.groups.keys.sorted() == ["all", "ungrouped"])
  }

  @Test("a missing inventory file is an error")
  func missingFile() {
    #expect(throws: DiagnosticList.self) {
      try InventoryLoader.load(path: "/nonexistent/dasprov/hosts.ini")
    }
  }

  @Test("non-UTF-8 bytes are allowed on comment lines only, as in Ansible")
  func latin1() throws {
    let dir = try TemporaryDirectory()
    let ok = dir.write("ok.ini", Data("# caf\u{E9}\n".utf8.map { $0 } + [0x23, 0xFF, 0x0A, 0x68, 0x31, 0x0A]))
    #expect(try InventoryLoader.load(path: ok).inventory.hosts.map(\.name) == ["h1"])
    let bad = dir.write("bad.ini", Data([0x68, 0x31, 0x0A, 0xFF, 0x0A]))
    do {
      _ = try InventoryLoader.load(path: bad)
      Issue.record("accepted invalid UTF-8")
    } catch {
      #expect(
        DiagnosticRenderer(sources: SourceFiles()).render(error.diagnostics)
          == "\(bad):2:1: error: this line is not valid UTF-8 (Ansible allows other bytes only on comment lines)\n")
    }
  }

  @Test("bad group_vars files are errors naming the file, reported together")
  func badVarsFiles() throws {
    let dir = try TemporaryDirectory()
    let inventory = dir.write("hosts.ini", "[web]\nw1\n[db]\nd1\n[cache]\nc1\n")
    dir.write("group_vars/web.yml", "a: [1, 2\n")
    dir.write("group_vars/all.yml", "- 1\n- 2\n")
    dir.write("group_vars/db.yml", Data([0x61, 0x3A, 0x20, 0xFF, 0x0A]))
    dir.write("host_vars/c1.yml", "secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n")
    let reporting = Reporting()
    do {
      _ = try InventoryLoader.load(path: inventory, reporting: reporting)
      Issue.record("accepted broken group_vars")
    } catch {
      let base = dir.path
      #expect(
        reporting.renderer(color: false).render(error.diagnostics) == """
          \(base)/group_vars/all.yml:1:1: error: expected a mapping of variable names at the top of '\(base)/group_vars/all.yml', found a list
          - 1
          ^
          \(base)/group_vars/web.yml:2:1: error: invalid YAML in '\(base)/group_vars/web.yml': while parsing a flow sequence: did not find expected ',' or ']'

          ^
          \(base)/group_vars/db.yml:1:1: error: variables file '\(base)/group_vars/db.yml' is not valid UTF-8
          \(base)/host_vars/c1.yml:1:9: error: cannot decrypt the !vault value: the vault data is damaged: the body does not hold salt, HMAC and ciphertext
          secret: !vault |
                  ^~~~~~

          """)
    }
  }
}

/// A scratch directory removed when the value goes away.
final class TemporaryDirectory {
  let path: String

  init() throws {
    path = FileManager.default.temporaryDirectory
      .appendingPathComponent("dasprov-inventory-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  @discardableResult
  func write(_ name: String, _ text: String) -> String { write(name, Data(text.utf8)) }

  @discardableResult
  func write(_ name: String, _ data: Data) -> String {
    let full = path + "/" + name
    try? FileManager.default.createDirectory(
      atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: full, contents: data)
    return full
  }
}
