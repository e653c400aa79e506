import Crypto
import DasprovTestSupport
import Foundation
import Testing

@testable import DasprovEngine

/// The in-process signer reads exactly the keys `ssh-keygen` writes, offers the same public key
/// blob as the `.pub` file, and signs verifiably; other keys are left to libssh2.
@Suite struct Ed25519SignerTests {
  func keygen(_ args: [String]) async throws -> String {
    let dir = NSTemporaryDirectory() + "dasprov-signer-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let r = try await Command.run("/usr/bin/ssh-keygen", args + ["-q", "-C", "test", "-f", dir + "/key"])
    try #require(r.status == 0, "\(r.stderrText)")
    return dir + "/key"
  }

  @Test func signsWithTheKeySshKeygenWrote() async throws {
    let path = try await keygen(["-t", "ed25519", "-N", ""])
    let signer = try #require(Ed25519Signer(path: path))
    let pub = try String(contentsOfFile: path + ".pub", encoding: .utf8).split(separator: " ")
    #expect(pub[0] == "ssh-ed25519")
    #expect(Data(signer.publicKeyBlob) == Data(base64Encoded: String(pub[1])))
    let message = Array("session id and userauth request".utf8)
    let signature = try #require(signer.sign(message))
    let key = try Curve25519.Signing.PublicKey(rawRepresentation: signer.publicKeyBlob.suffix(32))
    #expect(key.isValidSignature(signature, for: message))
    #expect(!key.isValidSignature(signature, for: message + [0]))
  }

  @Test func leavesOtherKeysToLibssh2() async throws {
    #expect(Ed25519Signer(path: try await keygen(["-t", "ed25519", "-N", "secret-passphrase"])) == nil, "encrypted")
    #expect(Ed25519Signer(path: try await keygen(["-t", "ecdsa", "-N", ""])) == nil)
    #expect(Ed25519Signer(path: "/nonexistent/key") == nil)
  }
}
