import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// Inventory values rendered as Ansible renders them when a play reads them.
@Suite("Templated inventory values")
struct TemplatingTests {
  private func load(_ ini: String, _ files: [String: String] = [:], vault: VaultSecrets = VaultSecrets()) throws -> (Inventory, TemporaryDirectory) {
    let dir = try TemporaryDirectory()
    let path = dir.write("hosts.ini", ini)
    for (name, text) in files { dir.write(name, text) }
    return (try InventoryLoader.load(path: path, vault: vault).inventory, dir)
  }

  private func failures(_ inventory: Inventory) -> [String] {
    do {
      _ = try inventory.templatedHostVars(secrets: SecretMasker())
      return []
    } catch {
      return error.diagnostics.map { d in
        "\(d.range.map { "\(($0.file as NSString).lastPathComponent):\($0.line):\($0.column) " } ?? "")\(d.message)"
      }
    }
  }

  @Test("a chain of references keeps the last value's type; text around a reference makes text")
  func chains() throws {
    let (inventory, _) = try load(
      "h1 a=\"{{ b }}\" b=\"{{ c }}\" c=8080 d=\"port {{ a }}\"\n",
      ["group_vars/all.yml": "l: \"{{ m }}\"\nm: [1, \"{{ c }}\"]\n"])
    let vars = try #require(try inventory.templatedHostVars(secrets: SecretMasker())["h1"])
    #expect(vars["a"] == 8080 && vars["b"] == 8080 && vars["d"] == "port 8080")
    #expect(vars["l"] == [1, 8080])
    #expect(inventory.host(named: "h1")?.vars["a"] == "{{ b }}", "the inventory itself keeps what was written")
  }

  @Test("a reference loop is an error naming every variable and where it is set")
  func loops() throws {
    let (inventory, _) = try load("[web]\nw1\nw2\n[web:vars]\na={{ b }}\nb=x{{ a }}\n")
    let found = failures(inventory)
    #expect(found.count == 1)
    let message = try #require(found.first)
    #expect(message.hasPrefix("hosts.ini:5:1 variables refer to each other in a loop: 'a' (") || message.hasPrefix("hosts.ini:6:1 variables refer to each other in a loop: 'b' ("), "\(message)")
    #expect(message.contains("hosts.ini:5:1") && message.contains("hosts.ini:6:1") && message.hasSuffix("(hosts 'w1', 'w2')"), "\(message)")
  }

  @Test("an undefined name is an error at the value that reads it, once for every host it fails on")
  func undefined() throws {
    let (inventory, _) = try load(
      "[web]\nw1\nw2\nw3\nw4\n[db]\nd1 x=1\n", ["group_vars/web.yml": "ok: 1\nurl: \"http://{{ db_hots }}/\"\nuser: \"{{ url }}\"\n"])
    #expect(failures(inventory) == ["web.yml:2:1 'db_hots' is undefined in the value of 'url' (hosts 'w1', 'w2', 'w3' and 1 more)"])
  }

  @Test("!unsafe values and bytes literals are never rendered, nor is what reads them")
  func unsafe() throws {
    let (inventory, _) = try load(
      "h1 b=\"b'{{ x }}'\" r=\"{{ b }}\"\n", ["host_vars/h1.yml": "u: !unsafe '{{ x }}'\nq: [!unsafe '{{ x }}', '{{ 1 + 1 }}']\nv: '{{ u }}'\n"])
    let vars = try #require(try inventory.templatedHostVars(secrets: SecretMasker())["h1"])
    #expect(vars["u"] == "{{ x }}" && vars["v"] == "{{ x }}")
    #expect(vars["b"] == "{{ x }}" && vars["r"] == "{{ x }}")
    #expect(vars["q"] == ["{{ x }}", 2])
  }

  @Test("a group variable reads the host's own value of what it references: host_vars beat group_vars")
  func precedence() throws {
    let (inventory, _) = try load(
      "[web]\nw1\nw2 tier=inline\n[web:vars]\ntier=group\n",
      ["group_vars/web.yml": "label: \"{{ tier }}-{{ inventory_hostname }}\"\ntier: files\n", "host_vars/w1.yml": "tier: host\n"])
    let all = try inventory.templatedHostVars(secrets: SecretMasker())
    #expect(all["w1"]?["label"] == "host-w1")
    #expect(all["w2"]?["label"] == "inline-w2")
  }

  @Test("hostvars, groups and group_names as in Ansible; through hostvars there is no hostvars")
  func magic() throws {
    let (inventory, _) = try load(
      "[db]\ndb1 ansible_host=10.0.0.5\n[app]\na1 peer=\"{{ hostvars['db1'].ansible_host }}\" all=\"{{ groups['all'] }}\" mine=\"{{ group_names }}\"\n"
        + "a2 via=\"{{ hostvars['a1'].mine }}\"\n")
    let all = try inventory.templatedHostVars(secrets: SecretMasker())
    #expect(all["a1"]?["peer"] == "10.0.0.5")
    #expect(all["a1"]?["all"] == ["db1", "a1", "a2"])
    #expect(all["a1"]?["mine"] == ["app"])
    #expect(all["a2"]?["via"] == ["app"])
    let (quirk, _) = try load("a1 ansible_host=10.0.0.6 x=\"{{ hostvars['a1'].ansible_host }}\" y=\"{{ hostvars['a1'].x }}\"\n")
    #expect(failures(quirk) == ["hosts.ini:1:26 'hostvars' is undefined here: as in Ansible, a variable read through hostvars[...] cannot use hostvars itself in the value of 'x' (host 'a1', read through hostvars)"])
  }

  @Test("syntax errors and unknown filters are reported at the value, before anything runs")
  func syntax() throws {
    let (inventory, _) = try load("h1 a=\"{{ 1 + }}\" b=\"{{ x | nosuch }}\" c=\"{% while %}\"\n")
    let found = failures(inventory)
    #expect(found.count == 3)
    #expect(found.contains { $0.hasPrefix("hosts.ini:1:4 cannot template the value of 'a' (host 'h1'): unexpected end of the tag") })
    #expect(found.contains { $0.contains("no filter named 'nosuch'") })
    #expect(found.contains { $0.contains("{% while %} is not supported") })
  }

  @Test("a vaulted value referenced elsewhere renders its plaintext; what is computed from a secret is masked")
  func secrets() throws {
    let vaulted = try VaultCorpus.text("strings/simple.yml").replacingOccurrences(of: "simple:", with: "token:")
    let (inventory, _) = try load(
      "h1\n",
      [
        "host_vars/h1.yml": vaulted + "derived: \"{{ token | upper }}-tmpl-1\"\nchoice: \"{{ 'flag-tmpl-on' if token else 'flag-tmpl-off' }}\"\n"
          + "db: {host: dbhost-tmpl, password: \"{{ token }}\"}\ndb_host_copy: \"{{ db.host }}\"\nmy_password: \"{{ db.host }}-pw\"\n"
      ], vault: try VaultCorpus.secrets())
    let masker = SecretMasker()
    let vars = try #require(try inventory.templatedHostVars(secrets: masker)["h1"])
    #expect(vars["derived"] == "HELLO-tmpl-1")
    #expect(vars["db"] == ["host": "dbhost-tmpl", "password": "hello"])
    #expect(masker.mask("HELLO-tmpl-1") == SecretMasker.mask)
    #expect(masker.mask("dbhost-tmpl-pw") == SecretMasker.mask, "a variable named like a password stays masked")
    #expect(masker.mask("flag-tmpl-on") == "flag-tmpl-on", "a decision on a secret is not the secret")
    #expect(masker.mask("x dbhost-tmpl y") == "x dbhost-tmpl y", "only the secret part of a map is a secret")
  }

  @Test("Ansible's rendering rules: one output keeps its type, no output is none, trailing newline and trim_blocks")
  func renderingRules() throws {
    let (inventory, _) = try load(
      "h1 p=3306\n",
      ["host_vars/h1.yml": "a: \"{% if true %}{{ p }}{% endif %}\"\nb: \"{% if false %}x{% endif %}\"\nc: |\n  {{ p }}\nd: \"{% for i in [1, 2] %}\\n{{ i }}\\n{% endfor %}\"\ne: \"{{ p }}{{ none }}\"\n"])
    let vars = try #require(try inventory.templatedHostVars(secrets: SecretMasker())["h1"])
    #expect(vars["a"] == 3306 && vars["b"] == .null && vars["c"] == 3306)
    #expect(vars["d"] == "1\n2\n")
    #expect(vars["e"] == "3306")
  }

  @Test("hostile values are errors, not crashes: deep nesting, huge repeats, long chains")
  func limits() throws {
    let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
    let chain = (0..<300).map { "v\($0)=\"{{ v\($0 + 1) }}\"" }.joined(separator: " ")
    let (inventory, _) = try load(
      "h1 a=\"{{ \(deep) }}\" b=\"{{ 'x' * 100000000000 }}\" c=\"{{ \(String(repeating: "not ", count: 5000))1 }}\" \(chain) v300=1\n")
    let found = failures(inventory)
    #expect(found.contains { $0.contains("value of 'a'") && $0.contains("nest more than") })
    #expect(found.contains { $0.contains("value of 'b'") && $0.contains("repeated string") })
    #expect(found.contains { $0.contains("value of 'c'") && $0.contains("nest more than") })
    #expect(found.contains { $0.contains("more than 200 deep") })
  }
}
