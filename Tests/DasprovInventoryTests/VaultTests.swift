import DasprovCore
import Foundation
import Testing

@testable import DasprovInventory

/// The files `VaultCorpus/regenerate.sh` made with the real ansible-vault 2.19.14, and the
/// plaintexts it recorded for them.
enum VaultCorpus {
  static let root: URL = Bundle.module.url(forResource: "VaultCorpus", withExtension: nil)!

  static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

  static func text(_ relative: String) throws -> String {
    try String(contentsOfFile: path(relative), encoding: .utf8)
  }

  static var expected: [String: String] {
    get throws {
      let data = try Data(contentsOf: root.appendingPathComponent("expected.json"))
      return try JSONDecoder().decode([String: String].self, from: data)
    }
  }

  /// The three vault ids the corpus uses, read the way the CLI reads them.
  static func identities() -> [VaultIdentity] {
    ["default", "prod", "dev"].map {
      VaultIdentity(label: $0, source: .file(path("passwords/\($0).txt")))
    }
  }

  static func secrets() throws -> VaultSecrets {
    try noProcesses.load(identities()).0
  }

  static var noProcesses: VaultSecretLoader {
    VaultSecretLoader(
      runScript: { path, _ throws(VaultSecretLoader.VaultSourceError) in throw .init("no scripts here: \(path)") },
      prompt: { _ throws(VaultSecretLoader.VaultSourceError) in throw .init("no terminal here") })
  }
}

@Suite("Ansible Vault")
struct VaultTests {
  @Test("every encrypt_string value of the corpus decrypts to its plaintext, and keeps its ciphertext")
  func inlineValues() throws {
    let secrets = try VaultCorpus.secrets()
    let strings = try VaultCorpus.expected.filter { $0.key.hasPrefix("strings/") }
    #expect(strings.count >= 8)
    for (file, plaintext) in strings {
      var reader = YAMLVarsReader(file: file, vault: secrets)
      let (value, _) = try reader.read(try VaultCorpus.text(file))
      let map = try #require(value.mapValue, "\(file)")
      let (name, decrypted) = try #require(map.first)
      #expect(decrypted == .string(plaintext), "\(file)")
      #expect(reader.decrypted == [plaintext])
      guard case .vaulted(let ciphertext)? = reader.tags[name]?.first?.tag else {
        Issue.record("\(file): no vault tag")
        continue
      }
      #expect(ciphertext.hasPrefix("$ANSIBLE_VAULT;1."))
      #expect(try VaultCorpus.text(file).contains(ciphertext.split(separator: "\n")[1]))
    }
  }

  @Test("whole files encrypted by ansible-vault decrypt byte for byte (CRLF, empty, vault ids)")
  func wholeFiles() throws {
    let secrets = try VaultCorpus.secrets()
    let files = try VaultCorpus.expected.filter { $0.key.hasPrefix("files/") }
    #expect(files.count >= 4)
    for (file, plaintext) in files {
      #expect(try secrets.decryptText(VaultCorpus.text(file)) == plaintext, "\(file)")
    }
  }

  @Test("format 1.2 carries the vault id; 1.1 does not")
  func labels() throws {
    let prod = try VaultEnvelope(parsing: VaultCorpus.text("files/crlf-plaintext.yml"))
    #expect(prod.version == "1.2")
    #expect(prod.label == "prod")
    let plain = try VaultEnvelope(parsing: VaultCorpus.text("files/vars.yml"))
    #expect(plain.version == "1.1")
    #expect(plain.label == nil)
  }

  @Test("a wrong password, no password and damaged data are refused")
  func refusals() throws {
    let text = try VaultCorpus.text("files/vars.yml")
    let wrong = VaultSecrets([VaultSecret(label: "default", password: Array("nope".utf8))])
    #expect(throws: VaultError.noMatchingSecret(label: nil, tried: ["default"])) { try wrong.decrypt(text) }
    #expect(throws: VaultError.noSecrets) { try VaultSecrets().decrypt(text) }

    let secrets = try VaultCorpus.secrets()
    // One changed ciphertext digit: the HMAC no longer fits, whichever secret is tried.
    var lines = text.split(separator: "\n").map(String.init)
    let last = lines.count - 1
    lines[last] = String(lines[last].dropLast()) + (lines[last].last == "0" ? "1" : "0")
    #expect(throws: VaultError.noMatchingSecret(label: nil, tried: ["default", "prod", "dev"])) {
      try secrets.decrypt(lines.joined(separator: "\n"))
    }
    let fresh = try VaultCorpus.secrets()
    for damaged in [
      "$ANSIBLE_VAULT;1.1",
      "$ANSIBLE_VAULT;1.1;AES128\n3031",
      "$ANSIBLE_VAULT;9.9;AES256\n3031",
      "$ANSIBLE_VAULT;1.1;AES256\nzz",
      "$ANSIBLE_VAULT;1.1;AES256\n" + String(text.split(separator: "\n")[1].prefix(40)),
    ] {
      do {
        _ = try fresh.decrypt(damaged)
        Issue.record("\(damaged): decrypted")
      } catch {
        guard case .damaged = error else {
          Issue.record("\(damaged): \(error)")
          continue
        }
      }
    }
    #expect(throws: VaultError.notVault) { try fresh.decrypt("db_password: x") }
    #expect(fresh.derivations == 0, "damaged data is refused before any key is derived")
  }

  @Test("keys are derived once per (secret, salt)")
  func keyCache() throws {
    let secrets = try VaultCorpus.secrets()
    let text = try VaultCorpus.text("files/vars.yml")
    _ = try secrets.decrypt(text)
    _ = try secrets.decrypt(text)
    #expect(secrets.derivations == 1)
    _ = try secrets.decrypt(VaultCorpus.text("files/crlf-envelope.yml"))  // vault id 'dev' goes first
    #expect(secrets.derivations == 2)
  }

  @Test("the corpus inventory loads: vault.yml beside vars.yml, inline values under two vault ids, CRLF")
  func inventory() throws {
    let secrets = try VaultCorpus.secrets()
    let reporting = Reporting()
    let (inventory, _) = try InventoryLoader.load(path: VaultCorpus.path("inventory/hosts.ini"), vault: secrets, reporting: reporting)
    let rcv = try #require(inventory.host(named: "rcv1"))
    #expect(rcv.vars["vault_db_password"] == "correct: Pässwort")
    #expect(rcv.vars["db_password"] == "{{ vault_db_password }}")
    #expect(rcv.valueTags.isEmpty, "values of a whole encrypted file show as plain values")
    let ana = try #require(inventory.host(named: "ana1"))
    #expect(ana.vars["ansible_become_password"] == "ana1-become")
    #expect(ana.vars["nested"] == ["token": "tok-1"])
    #expect(ana.vars["plain"] == "visible")
    #expect(ana.varOrigins["ansible_become_password"]?.line == 1)
    let list = inventory.ansibleListJSON()
    #expect(list.contains("\"__ansible_vault\": \"$ANSIBLE_VAULT;1.2;AES256;dev\\n"))
    #expect(!list.contains("ana1-become") && !list.contains("tok-1"))
    // Decrypted values are secrets, whatever their variable is called.
    for secret in ["ana1-become", "tok-1", "correct: Pässwort", "svn-secret"] {
      #expect(reporting.secrets.mask("x \(secret) y") == "x ******** y", "\(secret)")
    }
  }

  @Test("without the right secret the inventory is refused, naming file and line of each value")
  func inventoryRefused() throws {
    let onlyDefault = try VaultCorpus.noProcesses.load(Array(VaultCorpus.identities().prefix(1))).0
    do {
      _ = try InventoryLoader.load(path: VaultCorpus.path("inventory/hosts.ini"), vault: onlyDefault)
      Issue.record("loaded without the prod and dev secrets")
    } catch {
      let errors = error.errors.map { "\(($0.range?.file as NSString?)?.lastPathComponent ?? ""):\($0.range?.line ?? 0)" }
      #expect(Set(errors) == ["vault.yml:1", "ana1.yml:1"])
      #expect(error.errors.allSatisfy { $0.message.contains("no vault secret given fits it") })
    }
  }

  @Test("a decrypted file is never quoted in diagnostics")
  func decryptedFileIsRedacted() throws {
    let secrets = try VaultCorpus.secrets()
    let reporting = Reporting()
    _ = try InventoryLoader.load(path: VaultCorpus.path("inventory/hosts.ini"), vault: secrets, reporting: reporting)
    let file = VaultCorpus.path("inventory/group_vars/das/vault.yml")
    #expect(reporting.sources.line(1, of: file) == nil)
    let d = Diagnostic.warning("x", at: SourceRange(file: file, line: 1, column: 1))
    #expect(reporting.renderer(color: false).render(d) == "\(file):1:1: warning: x\n")
  }
}
