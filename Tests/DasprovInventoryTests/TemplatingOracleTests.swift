import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// Templated inventory values against ansible-core 2.19: for every host and variable, Ansible's
/// Templar renders the value as a play would (with `hostvars`), and dasprov must give the same
/// value — or fail where Ansible fails.
@Suite("Ansible oracle: templated inventory values")
struct TemplatingOracleTests {
  /// Prints `{host: {variable: {"value": V} | {"error": E}}}`: every variable of every host,
  /// rendered as a task's `debug: var=` would render it. Arguments: the inventory, then
  /// `LABEL@PASSWORD-FILE` vault ids.
  static let script = """
    import sys, json
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultSecret, VaultSecretsContext
    from ansible.inventory.manager import InventoryManager
    from ansible.vars.manager import VariableManager
    from ansible.vars.hostvars import HostVars
    from ansible.template import Templar
    loader = DataLoader()
    secrets = []
    for spec in sys.argv[2:]:
        label, path = spec.split('@', 1)
        with open(path, 'rb') as f:
            secrets.append((label, VaultSecret(f.read().strip())))
    loader.set_vault_secrets(secrets)
    VaultSecretsContext.initialize(VaultSecretsContext(secrets))
    inventory = InventoryManager(loader=loader, sources=[sys.argv[1]])
    variables = VariableManager(loader=loader, inventory=inventory)
    HostVars(inventory=inventory, variable_manager=variables, loader=loader)
    magic = {'ansible_config_file', 'ansible_facts', 'ansible_playbook_python', 'ansible_version', 'group_names',
             'groups', 'hostvars', 'inventory_dir', 'inventory_file', 'inventory_hostname', 'inventory_hostname_short',
             'playbook_dir', 'omit'}
    out = {}
    for host in inventory.get_hosts():
        hostvars = variables.get_vars(host=host, include_hostvars=True)
        templar = Templar(loader=loader, variables=hostvars)
        results = {}
        for name in sorted(set(hostvars) - magic):
            try:
                results[name] = {'value': templar.template(hostvars[name])}
            except Exception as e:
                results[name] = {'error': type(e).__name__ + ': ' + str(e).split('\\n')[0]}
        out[host.name] = results
    print(json.dumps(out, sort_keys=True, default=repr))
    """

  @Test("every variable renders as Ansible renders it, or fails where Ansible fails", arguments: ["33-templated-values", "34-template-errors"])
  func corpus(_ name: String) async throws {
    try await compare(Corpus.inventory(name), vault: VaultSecrets(), ids: [])
  }

  @Test("a value templated from a vaulted value renders as in Ansible")
  func vault() async throws {
    let ids = ["default", "prod", "dev"].map { "\($0)@\(VaultCorpus.path("passwords/\($0).txt"))" }
    try await compare(VaultCorpus.path("inventory/hosts.ini"), vault: try VaultCorpus.secrets(), ids: ids)
  }

  private func compare(_ inventory: String, vault: VaultSecrets, ids: [String]) async throws {
    guard let tool = await oracleTool() else { return }
    let python = (tool as NSString).deletingLastPathComponent + "/python"
    let oracle = await Oracle.inventory(python, ["-c", Self.script, inventory] + ids)
    try #require(oracle.status == 0, "\(oracle.stderr)")
    let theirs = try #require(PyJSON.parse(oracle.stdout)?.0.mapValue, "unreadable: \(oracle.stdout)")
    let ours = try InventoryLoader.load(path: inventory, vault: vault).inventory
    let resolver = VariableResolver(ours)
    #expect(Set(theirs.keys) == Set(ours.hosts.map(\.name)))
    var compared = 0
    for host in ours.hosts {
      let expected = try #require(theirs[host.name]?.mapValue)
      #expect(Set(expected.keys) == Set(host.vars.keys), "\(host.name): variable names differ")
      for name in PyFormat.sortedKeys(host.vars.keys) {
        guard let outcome = expected[name]?.mapValue else { continue }
        let mine = Result { () throws(TemplateError) in try resolver.resolve(.init(host: host.name, name: name, withHostvars: true)).0 }
        switch (outcome["value"], outcome["error"], mine) {
        case (let value?, _, .success(let got)):
          #expect(got == value, "\(host.name) \(name): Ansible \(value), dasprov \(got)")
        case (_, let error?, .success(let got)):
          Issue.record("\(host.name) \(name): Ansible fails (\(error)), dasprov gives \(got)")
        case (let value?, _, .failure(let error)):
          Issue.record("\(host.name) \(name): Ansible gives \(value), dasprov fails: \(error.message.text)")
        default:
          break
        }
        compared += 1
      }
    }
    #expect(compared >= 8)
  }
}
