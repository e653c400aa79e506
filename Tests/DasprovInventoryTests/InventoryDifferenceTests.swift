import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// The last differences from Ansible found on real estates (issue 17), each with its reproducer.
@Suite("inventory differences")
struct InventoryDifferenceTests {
  /// Parses `text` and renders its warnings with `secrets` known to the masker.
  private func renderWarnings(of text: String, file: String, secrets: [String]) throws -> String {
    let reporting = Reporting()
    let (_, warnings) = try InventoryLoader.parse(text: text, file: file, reporting: reporting)
    for s in secrets { reporting.secrets.add(s) }
    return reporting.renderer(color: false).render(warnings)
  }

  @Test("a secret equal to part of a group name leaves the name alone")
  func maskedGroupName() throws {
    #expect(try renderWarnings(of: "[quagga-routers]\nr1\n", file: "diff-quagga.ini", secrets: ["quagga"]) == """
      diff-quagga.ini:1:2: warning: group name 'quagga-routers' has characters that are not valid in a variable name; Ansible keeps it and warns too
      [quagga-routers]
       ^~~~~~~~~~~~~~

      """)
  }

  @Test("a secret equal to a group name is masked as a value only")
  func maskedValueNotName() throws {
    let text = "[web]\nw1 ansible_password=web x=1\nw1 x=2\n[web:vars]\ny=1\ny=2\n"
    #expect(try renderWarnings(of: text, file: "diff-web.ini", secrets: ["web"]) == """
      diff-web.ini:3:4: warning: variable 'x' of host 'w1' is set again; the later value wins, as in Ansible
      w1 x=2
         ^~~
      diff-web.ini:2:25: note: previously set here
      w1 ansible_password=******** x=1
                                   ^~~
      diff-web.ini:6:1: warning: variable 'y' of group 'web' is set again; the later value wins, as in Ansible
      y=2
      ^~~
      diff-web.ini:5:1: note: previously set here
      y=1
      ^~~

      """)
  }

  @Test("a UTF-8 byte order mark is read past, with a warning")
  func byteOrderMark() throws {
    let (inventory, warnings) = try InventoryLoader.parse(text: "\u{FEFF}[web]\nw1\n", file: "diff-bom.ini")
    #expect(inventory.groups["web"]?.hosts == ["w1"])
    #expect(warnings.map(\.message) == [
      "the file starts with a UTF-8 byte order mark; dasprov reads past it, ansible-inventory 2.19 cannot read this file"
    ])
  }

  @Test("a host under [x:children] is named as a host")
  func hostAsChild() {
    let reporting = Reporting()
    do {
      _ = try InventoryLoader.parse(text: "[web]\nw1\n[x:children]\nw1\n", file: "diff-child.ini", reporting: reporting)
      Issue.record("accepted a host as a child group")
    } catch {
      #expect(reporting.renderer(color: false).render(error.diagnostics) == """
        diff-child.ini:4:1: error: 'w1' under [x:children] is a host, not a group; list it under [x]
        w1
        ^~

        """)
    }
  }

  @Test("variables with names Ansible reserves are warned about where they are set")
  func reservedNames() throws {
    let dir = try TemporaryDirectory()
    let inventory = dir.write("hosts.ini", "[g]\nh1 become=true\n[g:vars]\nserial=3\nvars=1\n")
    dir.write("group_vars/g.yml", "any_errors_fatal: true\nname: x\n")
    dir.write("host_vars/h1.yml", "name: y\n")
    let (_, warnings) = try InventoryLoader.load(path: inventory)
    #expect(warnings.map { "\(($0.range?.file as NSString?)?.lastPathComponent ?? ""):\($0.range?.line ?? 0):\($0.range?.column ?? 0) \($0.message)" } == [
      "g.yml:1:1 found variable using reserved name 'any_errors_fatal', as Ansible warns: it is a playbook keyword",
      "h1.yml:1:1 found variable using reserved name 'name', as Ansible warns: it is a playbook keyword",
      "hosts.ini:2:4 found variable using reserved name 'become', as Ansible warns: it is a playbook keyword",
      "hosts.ini:4:1 found variable using reserved name 'serial', as Ansible warns: it is a playbook keyword",
    ])
  }

  @Test("!unsafe and bytes literals are shown as ansible-inventory --list shows them")
  func unsafeValues() throws {
    let dir = try TemporaryDirectory()
    let inventory = dir.write("hosts.ini", "h1 b=\"b'x'\" l=\"[b'y', 2]\" d=\"{'k': b'v'}\" s='plain'\n")
    dir.write("host_vars/h1.yml", "u: !unsafe '{{ x }}'\nn: !unsafe '5'\nq: [!unsafe a, b]\nm: !unsafe {k: v}\n")
    let host = try #require(try InventoryLoader.load(path: inventory).inventory.host(named: "h1"))
    #expect(host.vars["u"] == "{{ x }}")
    #expect(host.vars["n"] == 5, "!unsafe resolves its scalar as if untagged")
    #expect(host.isUnsafe("u") && host.isUnsafe("b") && !host.isUnsafe("s") && !host.isUnsafe("n"))
    #expect(host.isUnsafe("q", at: [.index(0)]) && !host.isUnsafe("q", at: [.index(1)]))
    let shown = host.shownVars(unsafe: true)
    #expect(shown["u"] == ["__ansible_unsafe": "{{ x }}"])
    #expect(shown["l"] == [["__ansible_unsafe": "y"], 2])
    #expect(shown["d"] == ["k": ["__ansible_unsafe": "v"]])
    #expect(shown["m"] == ["k": ["__ansible_unsafe": "v"]])
    #expect(shown["s"] == "plain")
    // --host shows them plainly, as ansible-inventory does.
    #expect(host.shownVars(unsafe: false) == host.vars)
  }

  @Test("variables named like Ansible's magic variables are left out of --list and --host, as ansible-inventory does")
  func magicNamesHidden() throws {
    let (inventory, _) = try InventoryLoader.parse(text: "h1 role_name=r inventory_dir=d keep=1\nh2 groups=g\n", file: "diff-magic.ini")
    #expect(inventory.hostVarsJSON("h1") == "{\n    \"keep\": 1\n}")
    #expect(inventory.hostVarsJSON("h2") == "{}")
    #expect(!inventory.ansibleListJSON().contains("\"h2\": {"))
    #expect(inventory.host(named: "h1")?.vars["role_name"] == "r", "the variable itself is there")
  }
}
