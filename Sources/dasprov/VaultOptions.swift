import ArgumentParser
import DasprovCore
import DasprovInventory
import Foundation

/// The Ansible Vault options of every command that reads an inventory, spelled as Ansible spells
/// them; with `ANSIBLE_VAULT_PASSWORD_FILE`, `ANSIBLE_VAULT_IDENTITY_LIST` and ansible.cfg's
/// `vault_password_file` / `vault_identity_list` they name the run's vault secrets.
struct VaultOptions: ParsableArguments {
  @Option(
    name: [.customLong("vault-password-file"), .customLong("vault-pass-file")],
    help: ArgumentHelp("A vault password file; if executable, it is run and its output is the password.", valueName: "file"))
  var passwordFiles: [String] = []

  @Option(
    name: .customLong("vault-id"),
    help: ArgumentHelp("A vault identity: [LABEL@]FILE or [LABEL@]prompt (repeatable).", valueName: "id"))
  var vaultIDs: [String] = []

  @Flag(
    name: [.customShort("J"), .customLong("ask-vault-pass"), .customLong("ask-vault-password")],
    help: "Ask for the vault password on the terminal.")
  var askVaultPass = false

  /// Reads every secret once, before the inventory: from files, scripts and the terminal.
  func secrets() throws(DiagnosticList) -> (VaultSecrets, [Diagnostic]) {
    let environment = ProcessInfo.processInfo.environment
    let cwd = FileManager.default.currentDirectoryPath
    let home = environment["HOME"] ?? NSHomeDirectory()
    let config: AnsibleConfig
    do {
      config = try AnsibleConfig.load(environment: environment, currentDirectory: cwd, home: home)
    } catch {
      throw DiagnosticList([.error(error.description)])
    }
    let identities = VaultIdentity.all(
      vaultIDs: vaultIDs, passwordFiles: passwordFiles, askVaultPass: askVaultPass,
      environment: environment, config: config, currentDirectory: cwd, home: home)
    guard !identities.isEmpty else { return (VaultSecrets(), []) }
    let loader = VaultSecretLoader(runScript: PasswordScript.run, prompt: PasswordPrompt.read)
    return try loader.load(identities)
  }
}
