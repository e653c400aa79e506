import DasprovCore

/// What Ansible remembers about a string beyond its text, and `ansible-inventory --list` shows:
/// text that must never be templated (`!unsafe`, Python bytes literals in INI values), and text
/// that came from a vault ciphertext.
///
/// The values themselves stay plain `Value.string`s (decrypted, for vault), so playbooks,
/// templates and the engine see ordinary text; the tags ride beside them, per variable, like
/// `varOrigins`.
public enum ValueTag: Sendable, Hashable {
  /// Untrusted text: shown as `{"__ansible_unsafe": TEXT}`; never rendered as a template.
  case unsafe
  /// Decrypted from an inline `!vault` value: shown as `{"__ansible_vault": CIPHERTEXT}`.
  case vaulted(ciphertext: String)
}

/// One tagged string inside a variable's value: the steps from the value down to it.
public struct TaggedLeaf: Sendable, Hashable {
  public enum Step: Sendable, Hashable {
    case key(String)
    case index(Int)
  }

  public var path: [Step]
  public var tag: ValueTag

  public init(path: [Step], tag: ValueTag) {
    self.path = path
    self.tag = tag
  }

  /// The leaf one level deeper: its path prefixed with `step`.
  func under(_ step: Step) -> TaggedLeaf {
    TaggedLeaf(path: [step] + path, tag: tag)
  }
}

extension Value {
  /// This value as `ansible-inventory --list` prints it: each tagged string replaced by the
  /// object Ansible writes for it.
  func shown(with leaves: [TaggedLeaf]) -> Value {
    var out = self
    for leaf in leaves { out.replace(at: leaf.path[...], leaf.tag) }
    return out
  }

  private mutating func replace(at path: ArraySlice<TaggedLeaf.Step>, _ tag: ValueTag) {
    guard let step = path.first else {
      switch tag {
      case .unsafe: self = .map(["__ansible_unsafe": self])
      case .vaulted(let ciphertext): self = .map(["__ansible_vault": .string(ciphertext)])
      }
      return
    }
    switch (step, self) {
    case (.key(let k), .map(var m)):
      guard var inner = m[k] else { return }  // A later layer replaced it; the tag went too.
      inner.replace(at: path.dropFirst(), tag)
      m[k] = inner
      self = .map(m)
    case (.index(let i), .list(var l)) where l.indices.contains(i):
      l[i].replace(at: path.dropFirst(), tag)
      self = .list(l)
    default:
      break
    }
  }
}
