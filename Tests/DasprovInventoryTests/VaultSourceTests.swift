import DasprovCore
import DasprovTestSupport
import Foundation
import Testing

@testable import DasprovInventory

/// Where vault secrets come from: the identities Ansible would use, in its order, and reading
/// them from files, scripts and ansible.cfg.
@Suite("vault secret sources")
struct VaultSourceTests {
  /// A scratch directory per test (tests run in parallel).
  private static func scratch() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dasprov-vault-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  private static func write(_ text: String, to path: String, executable: Bool = false) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
  }

  /// Runs scripts with the tests' `Command`, as the CLI does with swift-subprocess. `load` is
  /// synchronous, so a load that runs scripts is called through `OwnThread.run`, and the
  /// script waits there (never on the cooperative pool).
  private static let loader = VaultSecretLoader(
    runScript: { path, arguments throws(VaultSecretLoader.VaultSourceError) in
      do {
        let r = try OwnThread.wait { try await Command.run(path, arguments) }
        return .init(status: r.status, stdout: r.stdout, stderr: r.stderr)
      } catch {
        throw .init("\(error)")
      }
    },
    prompt: { _ throws(VaultSecretLoader.VaultSourceError) in throw .init("no terminal") })

  @Test("identities come in Ansible's order: identity list, --vault-id, --vault-password-file, vault_password_file, -J")
  func order() {
    let config = AnsibleConfig(
      path: "/etc/proj/ansible.cfg",
      defaults: ["vault_identity_list": "ops@~/ops.txt, 'qa@qa.txt'", "vault_password_file": "cfg.txt"])
    let ids = VaultIdentity.all(
      vaultIDs: ["prod@/p", "prompt"], passwordFiles: ["pf.txt"], askVaultPass: true,
      environment: [:], config: config, currentDirectory: "/work", home: "/home/me")
    #expect(ids.map(\.description) == [
      "ops@/home/me/ops.txt", "qa@/work/qa.txt", "prod@/p", "default@prompt", "default@/work/pf.txt",
      "default@/etc/proj/cfg.txt", "default@prompt",
    ])
    #expect(ids.last?.source == .prompt(askVaultPass: true))
    // The environment wins over ansible.cfg, and its relative paths are the working directory's.
    let env = VaultIdentity.all(
      vaultIDs: [], passwordFiles: [], askVaultPass: false,
      environment: ["ANSIBLE_VAULT_IDENTITY_LIST": "dev@$HOME/d", "ANSIBLE_VAULT_PASSWORD_FILE": "e.txt", "HOME": "/h"],
      config: config, currentDirectory: "/work", home: "/h")
    #expect(env.map(\.description) == ["dev@/h/d", "default@/work/e.txt"])
  }

  @Test("ansible.cfg: ANSIBLE_CONFIG first (a directory means its ansible.cfg), then ./, ~/, /etc")
  func configLookup() throws {
    let dir = try Self.scratch()
    try FileManager.default.createDirectory(atPath: dir + "/cwd", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: dir + "/home", withIntermediateDirectories: true)
    try Self.write("[defaults]\nvault_password_file = ~/cwd.txt ; a comment\n", to: dir + "/cwd/ansible.cfg")
    try Self.write("[defaults]\nVault_Identity_List: a@x,\n  b@y\n[other]\nvault_password_file=no\n", to: dir + "/home/.ansible.cfg")
    let fromCwd = try AnsibleConfig.load(environment: [:], currentDirectory: dir + "/cwd", home: dir + "/home")
    #expect(fromCwd.path == dir + "/cwd/ansible.cfg")
    #expect(fromCwd.defaults["vault_password_file"] == "~/cwd.txt")
    let fromEnv = try AnsibleConfig.load(
      environment: ["ANSIBLE_CONFIG": dir + "/home/.ansible.cfg"], currentDirectory: dir + "/cwd", home: dir + "/home")
    #expect(fromEnv.defaults == ["vault_identity_list": "a@x,\nb@y"])
    try FileManager.default.removeItem(atPath: dir + "/cwd/ansible.cfg")
    let fromHome = try AnsibleConfig.load(environment: [:], currentDirectory: dir + "/cwd", home: dir + "/home")
    #expect(fromHome.path == dir + "/home/.ansible.cfg")
    try Self.write("[defaults]\n", to: dir + "/cwd/ansible.cfg")
    let fromDirectory = try AnsibleConfig.load(
      environment: ["ANSIBLE_CONFIG": dir + "/cwd"], currentDirectory: "/", home: dir + "/home")
    #expect(fromDirectory.path == dir + "/cwd/ansible.cfg")
    try Self.write("vault_password_file = x\n", to: dir + "/cwd/ansible.cfg")
    #expect(throws: AnsibleConfig.ConfigError.self) {
      try AnsibleConfig.load(environment: [:], currentDirectory: dir + "/cwd", home: dir + "/home")
    }
  }

  @Test("password files are stripped; scripts are run; a client script gets --vault-id")
  func sources() async throws {
    let dir = try Self.scratch()
    try Self.write("  spaced \n\n", to: dir + "/file.txt")
    try Self.write("#!/bin/sh\nprintf ' from-script \\r\\n'\n", to: dir + "/script.sh", executable: true)
    try Self.write("#!/bin/sh\n[ \"$1 $2\" = '--vault-id prod' ] && echo client-prod && exit 0\nexit 2\n", to: dir + "/keys-client.sh", executable: true)
    let (secrets, warnings) = try await OwnThread.run {
      try Self.loader.load([
        VaultIdentity(label: "default", source: .file(dir + "/file.txt")),
        VaultIdentity(label: "s", source: .file(dir + "/script.sh")),
        VaultIdentity(label: "prod", source: .file(dir + "/keys-client.sh")),
      ])
    }
    #expect(warnings.isEmpty)
    #expect(secrets.secrets.map { String(decoding: $0.password, as: UTF8.self) } == ["spaced", " from-script ", "client-prod"])
    #expect(secrets.secrets.map(\.label) == ["default", "s", "prod"])
  }

  @Test("a failing source warns while another works, and is an error when none does")
  func failures() async throws {
    let dir = try Self.scratch()
    try Self.write("ok\n", to: dir + "/ok.txt")
    try Self.write("#!/bin/sh\necho broken >&2\nexit 3\n", to: dir + "/fail.sh", executable: true)
    try Self.write("#!/bin/sh\nexit 2\n", to: dir + "/none-client", executable: true)
    try Self.write("\n", to: dir + "/empty.txt")
    let (secrets, warnings) = try await OwnThread.run {
      try Self.loader.load([
        VaultIdentity(label: "a", source: .file(dir + "/missing.txt")),
        VaultIdentity(label: "b", source: .file(dir + "/fail.sh")),
        VaultIdentity(label: "c", source: .file(dir + "/none-client")),
        VaultIdentity(label: "d", source: .file(dir + "/empty.txt")),
        VaultIdentity(label: "e", source: .file(dir + "/ok.txt")),
      ])
    }
    #expect(secrets.secrets.map(\.label) == ["e"])
    #expect(warnings.map(\.message) == [
      "vault id 'a@\(dir)/missing.txt': the vault password file \(dir)/missing.txt was not found",
      "vault id 'b@\(dir)/fail.sh': the vault password script \(dir)/fail.sh exited with status 3: broken",
      "vault id 'c@\(dir)/none-client': the vault password client script \(dir)/none-client has no secret for vault id 'c'",
      "vault id 'd@\(dir)/empty.txt': the vault password from \(dir)/empty.txt is empty",
    ])
    #expect(throws: DiagnosticList.self) {
      try Self.loader.load([VaultIdentity(label: "a", source: .file(dir + "/missing.txt"))])
    }
    // A prompt without a terminal stops at once, as in Ansible.
    do {
      _ = try Self.loader.load([VaultIdentity(label: "default", source: .prompt(askVaultPass: true))])
      Issue.record("prompted without a terminal")
    } catch {
      #expect(error.errors.map(\.message) == ["vault id 'default': no terminal"])
    }
  }

  @Test("a password file may itself be vaulted with a secret read before it")
  func vaultedPasswordFile() throws {
    // The corpus' vars.yml is encrypted with the default password; as a password file its
    // plaintext (three YAML lines) is the password.
    let (secrets, _) = try Self.loader.load([
      VaultIdentity(label: "default", source: .file(VaultCorpus.path("passwords/default.txt"))),
      VaultIdentity(label: "inner", source: .file(VaultCorpus.path("files/vars.yml"))),
    ])
    #expect(String(decoding: secrets.secrets[1].password, as: UTF8.self).hasPrefix("db_user: das\n"))
  }
}
