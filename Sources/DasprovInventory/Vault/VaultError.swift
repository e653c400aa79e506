/// Why a vault text could not be decrypted. The reader turns it into a diagnostic at the value
/// or file, so the message says what to do, not where.
public enum VaultError: Error, Sendable, Hashable, CustomStringConvertible {
  /// Not vault data at all (no `$ANSIBLE_VAULT` header).
  case notVault
  /// Not a text `ansible-vault` writes: a bad header, hex or layout.
  case damaged(String)
  /// No secret was given on the command line, in the environment or in ansible.cfg.
  case noSecrets
  /// Every secret was tried; none has this text's HMAC (the labels tried, in order).
  case noMatchingSecret(label: String?, tried: [String])
  /// The HMAC matched but the plaintext's padding is wrong (cannot happen with ansible-vault).
  case badPadding
  /// The plaintext is not UTF-8 (a value must be text).
  case notText

  public var description: String {
    switch self {
    case .notVault: return "not vault-encrypted data"
    case .damaged(let why): return "the vault data is damaged: \(why)"
    case .noSecrets:
      return "encrypted with Ansible Vault, and no vault secret was given (use --vault-password-file, --vault-id or --ask-vault-pass)"
    case .noMatchingSecret(let label, let tried):
      let id = label.map { " (vault id '\($0)')" } ?? ""
      let list = tried.map { "'\($0)'" }.joined(separator: ", ")
      return "cannot decrypt this vault data\(id): no vault secret given fits it (tried \(list)); wrong password, or the data was changed"
    case .badPadding: return "the vault data is damaged: the decrypted padding is invalid"
    case .notText: return "the decrypted vault data is not UTF-8 text"
    }
  }
}
