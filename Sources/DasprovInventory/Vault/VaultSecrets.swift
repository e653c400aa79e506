import Foundation

/// One vault secret: a password and the vault id it was given for (`default` unless labelled).
public struct VaultSecret: Sendable, Hashable {
  public var label: String
  public var password: [UInt8]

  public init(label: String, password: [UInt8]) {
    self.label = label
    self.password = password
  }
}

/// The vault secrets of one run, handed to the inventory loader, which decrypts every vaulted
/// value and file with them on the controller.
///
/// Like Ansible, every secret is tried until one authenticates the data (its HMAC); secrets whose
/// label equals the data's vault id go first, which only saves work. Keys are derived once per
/// (secret, salt): files encrypted in one `ansible-vault` call share a salt only by chance, but a
/// value read twice (a group_vars file shared by many groups) costs one derivation.
public final class VaultSecrets: @unchecked Sendable {
  // A lock, not an actor: the loader is synchronous.
  private let lock = NSLock()
  public let secrets: [VaultSecret]
  private var keys: [KeyID: VaultCipher.Keys] = [:]
  /// How many keys were derived: the tests check the cache with it.
  private(set) var derivations = 0

  private struct KeyID: Hashable {
    var secret: Int
    var salt: [UInt8]
  }

  public init(_ secrets: [VaultSecret] = []) {
    self.secrets = secrets
  }

  public var isEmpty: Bool { secrets.isEmpty }

  /// The plaintext of a vault text, as text.
  public func decryptText(_ vaultText: String) throws(VaultError) -> String {
    let bytes = try decrypt(vaultText)
    guard let text = String(validating: bytes, as: UTF8.self) else { throw .notText }
    return text
  }

  /// The plaintext bytes of a vault text. The envelope is checked before any key is derived.
  public func decrypt(_ vaultText: String) throws(VaultError) -> [UInt8] {
    let envelope = try VaultEnvelope(parsing: vaultText)
    guard !secrets.isEmpty else { throw .noSecrets }
    let preferred = secrets.indices.filter { secrets[$0].label == envelope.label }
    let order = preferred + secrets.indices.filter { !preferred.contains($0) }
    for i in order {
      guard let keys = keys(for: i, salt: envelope.salt), VaultCipher.authenticates(envelope, with: keys) else {
        continue
      }
      return try VaultCipher.decrypt(envelope, with: keys)
    }
    throw .noMatchingSecret(label: envelope.label, tried: order.map { secrets[$0].label })
  }

  private func keys(for secret: Int, salt: [UInt8]) -> VaultCipher.Keys? {
    let id = KeyID(secret: secret, salt: salt)
    if let cached = lock.withLock({ keys[id] }) { return cached }
    guard let derived = VaultCipher.deriveKeys(secret: secrets[secret].password, salt: salt) else { return nil }
    lock.withLock {
      keys[id] = derived
      derivations += 1
    }
    return derived
  }
}
