import Crypto

/// SHA-256, so the controller can compare rendered files and uploads with remote `sha256sum`
/// output. A thin wrapper over swift-crypto (BoringSSL's implementation, which uses the CPU's
/// SHA instructions where there are some) that keeps the hex helpers every caller uses. Not
/// `Sendable`, as swift-crypto's hasher is not: one hasher belongs to one thread.
public struct SHA256 {
  private var hasher = Crypto.SHA256()

  public init() {}

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    hasher.update(bufferPointer: bytes)
  }

  public mutating func update<D: Sequence>(_ data: D) where D.Element == UInt8 {
    // Contiguous collections (Array, Data, slices) are hashed in place, without a copy.
    if data.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
      Array(data).withUnsafeBytes { hasher.update(bufferPointer: $0) }
    }
  }

  /// The 32-byte digest. The hasher is spent afterwards.
  public mutating func finalize() -> [UInt8] {
    Array(hasher.finalize())
  }

  /// The lowercase hex digest, as `sha256sum` prints it.
  public mutating func finalizeHex() -> String {
    Hex.string(finalize())
  }

  public static func hex<D: Sequence>(_ data: D) -> String where D.Element == UInt8 {
    var s = SHA256()
    s.update(data)
    return s.finalizeHex()
  }
}

/// Hex digits of digests.
enum Hex {
  static func string(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) -> String {
    let digits = Array(uppercase ? "0123456789ABCDEF".utf8 : "0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0xf)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}
