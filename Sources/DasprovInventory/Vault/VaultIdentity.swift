import Foundation

/// Where one vault secret comes from, as `--vault-id [LABEL@]SOURCE` spells it: a password file
/// (run when it is executable) or `prompt`.
public struct VaultIdentity: Sendable, Hashable, CustomStringConvertible {
  public enum Source: Sendable, Hashable {
    /// Ask on the terminal; `askVaultPass` is `--ask-vault-pass`'s own prompt ("Vault password: ").
    case prompt(askVaultPass: Bool)
    /// A password file (absolute path), or a script that prints the password.
    case file(String)
  }

  /// The vault id; Ansible's `default` when none is written.
  public var label: String
  public var source: Source

  public init(label: String, source: Source) {
    self.label = label
    self.source = source
  }

  /// `[LABEL@]SOURCE`, the label ending at the first `@`; relative files are taken from `base`.
  public init(parsing slug: String, base: String, environment: [String: String], home: String) {
    var label: String?
    var value = slug
    if let at = slug.firstIndex(of: "@") {
      label = String(slug[..<at])
      value = String(slug[slug.index(after: at)...])
    }
    self.label = label.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultLabel
    switch value {
    case "prompt": source = .prompt(askVaultPass: false)
    case "prompt_ask_vault_pass": source = .prompt(askVaultPass: true)
    default: source = .file(AnsibleConfig.expand(value, environment: environment, home: home, base: base))
    }
  }

  public static let defaultLabel = "default"

  public var description: String {
    switch source {
    case .prompt: return "\(label)@prompt"
    case .file(let path): return "\(label)@\(path)"
    }
  }

  /// Every identity of a run, in the order Ansible tries them: `vault_identity_list` (from
  /// `ANSIBLE_VAULT_IDENTITY_LIST`, else ansible.cfg), then `--vault-id`s, then
  /// `--vault-password-file`s, then `vault_password_file` (from `ANSIBLE_VAULT_PASSWORD_FILE`,
  /// else ansible.cfg, relative to that file), then `--ask-vault-pass`.
  public static func all(
    vaultIDs: [String], passwordFiles: [String], askVaultPass: Bool,
    environment: [String: String], config: AnsibleConfig, currentDirectory: String, home: String
  ) -> [VaultIdentity] {
    func parse(_ slug: String, base: String = currentDirectory) -> VaultIdentity {
      VaultIdentity(parsing: slug, base: base, environment: environment, home: home)
    }
    var out: [VaultIdentity] = []
    let list = environment["ANSIBLE_VAULT_IDENTITY_LIST"] ?? config.defaults["vault_identity_list"]
    for item in (list ?? "").split(separator: ",") {
      let slug = unquote(item.trimmingCharacters(in: .whitespaces))
      if !slug.isEmpty { out.append(parse(slug)) }
    }
    out += vaultIDs.map { parse($0) }
    out += passwordFiles.map { parse(defaultLabel + "@" + $0) }
    if let file = environment["ANSIBLE_VAULT_PASSWORD_FILE"], !file.isEmpty {
      out.append(parse(defaultLabel + "@" + file))
    } else if let file = config.defaults["vault_password_file"], !file.isEmpty, let path = config.path {
      out.append(parse(defaultLabel + "@" + file, base: (path as NSString).deletingLastPathComponent))
    }
    if askVaultPass { out.append(VaultIdentity(label: defaultLabel, source: .prompt(askVaultPass: true))) }
    return out
  }

  /// Ansible's `unquote` for list items: one pair of matching quotes.
  private static func unquote(_ s: String) -> String {
    guard s.count > 1, let first = s.first, first == s.last, first == "\"" || first == "'" else { return s }
    return String(s.dropFirst().dropLast())
  }
}
