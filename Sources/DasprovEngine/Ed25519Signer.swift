import Crypto
import DasprovSSH
import Foundation
import Synchronization

/// An unencrypted OpenSSH ed25519 key, read once per run, that signs SSH logins in-process.
///
/// libssh2 reads and parses the key file for every host it logs in to — with OpenSSL 3 first
/// trying every PEM decoder it has, since the OpenSSH format is none of them — and builds a new
/// key object for each signature: ≈ 7 million instructions per host, more than the rest of a
/// no-op's work on it. Here the file is parsed once and each login costs one Ed25519 signature.
/// Other keys (RSA, ECDSA, encrypted ones) are left to libssh2.
struct Ed25519Signer: SSHSigner, @unchecked Sendable {
  let publicKeyBlob: [UInt8]
  // Immutable after init, and signing reads it only: safe to share between host threads
  // (swift-crypto does not mark it Sendable).
  private let key: Curve25519.Signing.PrivateKey

  /// The key in `path`, if it is an unencrypted OpenSSH ed25519 key whose halves agree.
  init?(path: String) {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    guard let data = SSHWireReader.openSSHPrivateKey(in: text) else { return nil }
    var r = SSHWireReader(bytes: data)
    // "openssh-key-v1\0", cipher, kdf, kdf options, one key, its public blob, the private part.
    guard r.take(15) == Array("openssh-key-v1\0".utf8), r.string() == Array("none".utf8), r.string() == Array("none".utf8),
      r.string() != nil, r.uint32() == 1, let blob = r.string(), var p = r.string().map({ SSHWireReader(bytes: $0) })
    else { return nil }
    // Two equal check words, the key type, the public key, seed + public key, a comment.
    guard let c1 = p.uint32(), c1 == p.uint32(), p.string() == Array("ssh-ed25519".utf8), let pub = p.string(), pub.count == 32,
      let priv = p.string(), priv.count == 64, Array(priv[32...]) == pub,
      let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: priv[..<32]),
      Array(key.publicKey.rawRepresentation) == pub,
      blob == Self.string(Array("ssh-ed25519".utf8)) + Self.string(pub)
    else { return nil }
    self.key = key
    self.publicKeyBlob = blob
  }

  func sign(_ data: [UInt8]) -> [UInt8]? {
    guard let signature = try? key.signature(for: data) else { return nil }
    return Array(signature)
  }

  /// An SSH wire-format string: a 32-bit big-endian length, then the bytes.
  static func string(_ bytes: [UInt8]) -> [UInt8] {
    let n = UInt32(bytes.count)
    return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + bytes
  }

  /// Keys by path, parsed once per run (nil: not one this signer handles).
  static func cached(_ path: String) -> Ed25519Signer? {
    if let known = cache.withLock({ $0[path] }) { return known }
    let signer = Ed25519Signer(path: path)
    cache.withLock { $0[path] = .some(signer) }
    return signer
  }

  private static let cache = Mutex<[String: Ed25519Signer?]>([:])
}
