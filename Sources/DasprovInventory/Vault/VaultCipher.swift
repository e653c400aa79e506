import Crypto
import _CryptoExtras
import Foundation

/// The `AES256` cipher of Ansible Vault (formats 1.1 and 1.2), built from swift-crypto.
///
/// PBKDF2-HMAC-SHA256 with 10,000 rounds turns (secret, salt) into 80 bytes: a 32-byte AES key,
/// a 32-byte HMAC key and the 16-byte initial counter of AES-256-CTR. The HMAC-SHA256 of the
/// ciphertext is checked (in constant time) before anything is decrypted; the plaintext carries
/// PKCS#7 padding to the AES block size.
enum VaultCipher {
  /// The keys one (secret, salt) pair derives; deriving is the expensive step, so they are cached.
  struct Keys {
    var aes: SymmetricKey
    var hmac: SymmetricKey
    var counter: [UInt8]
  }

  /// The format's parameters, fixed by Ansible.
  static let rounds = 10_000
  static let keyLength = 32
  static let counterLength = 16

  static func deriveKeys(secret: [UInt8], salt: [UInt8]) -> Keys? {
    // 10,000 rounds is below swift-crypto's modern minimum, hence the unchecked entry point:
    // the format fixes the count and the keys must match what ansible-vault derived.
    guard
      let derived = try? KDF.Insecure.PBKDF2.deriveKey(
        from: secret, salt: salt, using: .sha256,
        outputByteCount: 2 * keyLength + counterLength, unsafeUncheckedRounds: rounds)
    else { return nil }
    let bytes = derived.withUnsafeBytes { Array($0) }
    return Keys(
      aes: SymmetricKey(data: bytes[0..<keyLength]),
      hmac: SymmetricKey(data: bytes[keyLength..<(2 * keyLength)]),
      counter: Array(bytes[(2 * keyLength)...]))
  }

  /// Whether `keys` authenticate the envelope's ciphertext.
  static func authenticates(_ envelope: VaultEnvelope, with keys: Keys) -> Bool {
    HMAC<SHA256>.isValidAuthenticationCode(envelope.hmac, authenticating: envelope.ciphertext, using: keys.hmac)
  }

  /// The plaintext of an authenticated envelope, padding removed.
  static func decrypt(_ envelope: VaultEnvelope, with keys: Keys) throws(VaultError) -> [UInt8] {
    let padded: Data
    do {
      let nonce = try AES._CTR.Nonce(nonceBytes: keys.counter)
      padded = try AES._CTR.decrypt(envelope.ciphertext, using: keys.aes, nonce: nonce)
    } catch {
      throw .damaged("AES-CTR failed: \(error)")
    }
    guard let pad = padded.last, (1...16).contains(pad), padded.count >= Int(pad),
      padded.suffix(Int(pad)).allSatisfy({ $0 == pad })
    else { throw .badPadding }
    return Array(padded.dropLast(Int(pad)))
  }
}
