import DasprovCore
import Foundation

/// Reads the secrets of a run's vault identities, as Ansible's CLI does, once, before the
/// inventory is read.
///
/// A password file is read and stripped of surrounding whitespace (and may itself be vaulted
/// with a secret read before it); an executable file is run and its output up to the line end
/// taken (a name ending in `-client` is run with `--vault-id LABEL`, and exit 2 means "no such
/// id"); `prompt` asks on the terminal. As in Ansible a source that fails is a warning while
/// another one works, and an error when none does. Running and prompting are the caller's, so
/// this stays testable and free of processes and terminals.
public struct VaultSecretLoader: Sendable {
  /// Runs `path` with `arguments`; throws a message when it cannot be started.
  public var runScript: @Sendable (_ path: String, _ arguments: [String]) throws(VaultSourceError) -> CommandOutput
  /// Shows `prompt` and reads a line without echo; throws when there is no terminal.
  public var prompt: @Sendable (_ prompt: String) throws(VaultSourceError) -> String

  public init(
    runScript: @escaping @Sendable (String, [String]) throws(VaultSourceError) -> CommandOutput,
    prompt: @escaping @Sendable (String) throws(VaultSourceError) -> String
  ) {
    self.runScript = runScript
    self.prompt = prompt
  }

  public struct VaultSourceError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
  }

  /// The secrets, and warnings for sources that failed while others worked.
  public func load(_ identities: [VaultIdentity]) throws(DiagnosticList) -> (VaultSecrets, [Diagnostic]) {
    var secrets: [VaultSecret] = []
    var warnings: [Diagnostic] = []
    var lastFailure: Diagnostic?
    for identity in identities {
      do throws(VaultSourceError) {
        let password = try read(identity, known: secrets)
        secrets.append(VaultSecret(label: identity.label, password: password))
      } catch {
        // Ansible gives up at once when a prompt fails; a bad file only counts if nothing works.
        if case .prompt = identity.source { throw DiagnosticList(warnings + [.error("vault id '\(identity.label)': \(error)")]) }
        let failure = Diagnostic.error("vault id '\(identity)': \(error)")
        warnings.append(.warning(failure.message))
        lastFailure = failure
      }
    }
    if let lastFailure, secrets.isEmpty { throw DiagnosticList([lastFailure]) }
    return (VaultSecrets(secrets), warnings)
  }

  private func read(_ identity: VaultIdentity, known: [VaultSecret]) throws(VaultSourceError) -> [UInt8] {
    switch identity.source {
    case .prompt(let askVaultPass):
      let text = try prompt(askVaultPass ? "Vault password: " : "Vault password (\(identity.label)): ")
      let password = Array(text.utf8).strippingASCIIWhitespace()
      guard !password.isEmpty else { throw VaultSourceError("the vault password from the prompt is empty") }
      return password
    case .file(let path):
      return try readFile(path, identity: identity, known: known)
    }
  }

  private func readFile(_ path: String, identity: VaultIdentity, known: [VaultSecret]) throws(VaultSourceError) -> [UInt8] {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
      throw VaultSourceError("the vault password file \(path) was not found")
    }
    guard !isDir.boolValue else { throw VaultSourceError("the vault password file \(path) is a directory") }
    var password: [UInt8]
    if fm.isExecutableFile(atPath: path) {
      let isClient = ((path as NSString).deletingPathExtension as NSString).lastPathComponent.hasSuffix("-client")
      let output = try runScript(path, isClient ? ["--vault-id", identity.label] : [])
      if isClient && output.status == 2 {
        throw VaultSourceError("the vault password client script \(path) has no secret for vault id '\(identity.label)'")
      }
      guard output.status == 0 else {
        let stderr = String(decoding: output.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        throw VaultSourceError("the vault password script \(path) exited with status \(output.status)\(stderr.isEmpty ? "" : ": \(stderr)")")
      }
      password = output.stdout.stripping { $0 == 0x0D || $0 == 0x0A }
    } else {
      guard let data = fm.contents(atPath: path) else {
        throw VaultSourceError("cannot read the vault password file \(path)")
      }
      password = Array(data).strippingASCIIWhitespace()
      // A password file may itself be vaulted with a secret read before it.
      if VaultEnvelope.isVault(String(decoding: password, as: UTF8.self)) {
        do {
          password = try VaultSecrets(known).decrypt(String(decoding: password, as: UTF8.self))
        } catch {
          throw VaultSourceError("the vault password file \(path) is vault-encrypted: \(error)")
        }
      }
      password = password.stripping { $0 == 0x0D || $0 == 0x0A }
    }
    guard !password.isEmpty else { throw VaultSourceError("the vault password from \(path) is empty") }
    return password
  }
}

extension [UInt8] {
  /// Python's `bytes.strip()`: ASCII whitespace at both ends.
  fileprivate func strippingASCIIWhitespace() -> [UInt8] {
    stripping { $0 == 0x20 || (0x09...0x0D).contains($0) }
  }

  fileprivate func stripping(_ drop: (UInt8) -> Bool) -> [UInt8] {
    guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else { return [] }
    return Array(self[first...last])
  }
}
