/// One vault text as `ansible-vault` writes it, taken apart:
///
///     $ANSIBLE_VAULT;1.1;AES256            (1.2 adds ";LABEL", the vault id)
///     6332…                                hex, in lines of 80
///
/// The hex body decodes to three lines of hex again — salt, HMAC, ciphertext — so each is
/// decoded a second time. Nothing here is secret or decrypted; a damaged text fails here, before
/// any key is derived.
struct VaultEnvelope: Sendable, Hashable {
  var version: String
  /// The vault id of a 1.2 text: which secret to try first (it is not authenticated).
  var label: String?
  var salt: [UInt8]
  /// The HMAC-SHA256 of the ciphertext, as written.
  var hmac: [UInt8]
  var ciphertext: [UInt8]

  static let header = "$ANSIBLE_VAULT"

  /// Whether `text` is vault data: Ansible's test is the header at the very start.
  static func isVault(_ text: some StringProtocol) -> Bool {
    text.utf8.starts(with: header.utf8)
  }

  init(parsing text: String) throws(VaultError) {
    // Python's splitlines(): CRLF files written on Windows decrypt as well.
    let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    guard let first = lines.first, Self.isVault(first) else { throw .notVault }
    let fields = first.split(separator: ";", omittingEmptySubsequences: false)
      .map { $0.trimmingCharacters(in: .whitespaces) }
    guard fields.count >= 3 else { throw .damaged("the header has no format version and cipher") }
    guard fields[1] == "1.1" || fields[1] == "1.2" else {
      throw .damaged("format version '\(fields[1])' is not 1.1 or 1.2")
    }
    guard fields[2] == "AES256" else { throw .damaged("cipher '\(fields[2])' is not AES256") }
    version = fields[1]
    label = fields.count >= 4 && !fields[3].isEmpty ? fields[3] : nil

    guard let body = Hex.decode(lines.dropFirst().joined()) else {
      throw .damaged("the body is not hexadecimal")
    }
    let parts = body.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3 else { throw .damaged("the body does not hold salt, HMAC and ciphertext") }
    guard let salt = Hex.decode(parts[0]), !salt.isEmpty,
      let hmac = Hex.decode(parts[1]), hmac.count == 32,
      let ciphertext = Hex.decode(parts[2]), !ciphertext.isEmpty, ciphertext.count % 16 == 0
    else { throw .damaged("the salt, HMAC or ciphertext is malformed") }
    self.salt = salt
    self.hmac = hmac
    self.ciphertext = ciphertext
  }
}

/// Hexadecimal as Python's `unhexlify`: an even number of digits of either case, nothing else.
enum Hex {
  static func decode(_ text: some StringProtocol) -> [UInt8]? {
    decode(Array(text.utf8))
  }

  static func decode(_ bytes: some Collection<UInt8>) -> [UInt8]? {
    guard bytes.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count / 2)
    var high: UInt8?
    for b in bytes {
      guard let v = nibble(b) else { return nil }
      if let h = high {
        out.append(h << 4 | v)
        high = nil
      } else {
        high = v
      }
    }
    return out
  }

  private static func nibble(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
    default: return nil
    }
  }
}
