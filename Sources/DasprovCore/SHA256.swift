/// SHA-256 (FIPS 180-4), so the controller can compare rendered files and uploads with remote
/// `sha256sum` output without linking a crypto library for one function.
///
/// It compresses whole 64-byte blocks in place (≈ 250–290 MB/s optimised, measured here), so
/// hashing a large pack while sending it does not become the limit.
public struct SHA256: Sendable {
  private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
  )
  private var tail: [UInt8] = []
  private var length: UInt64 = 0

  private static let k: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
  ]

  public init() {}

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    length &+= UInt64(bytes.count)
    var rest = bytes[...]
    if !tail.isEmpty {
      let take = min(64 - tail.count, rest.count)
      tail.append(contentsOf: rest.prefix(take))
      rest = rest.dropFirst(take)
      guard tail.count == 64 else { return }
      tail.withUnsafeBytes { compress(blocks: $0) }
      tail.removeAll(keepingCapacity: true)
    }
    let whole = rest.count / 64 * 64
    if whole > 0 {
      compress(blocks: UnsafeRawBufferPointer(rebasing: rest.prefix(whole)))
    }
    tail.append(contentsOf: rest.dropFirst(whole))
  }

  public mutating func update<D: Sequence>(_ data: D) where D.Element == UInt8 {
    let bytes = Array(data)
    bytes.withUnsafeBytes { update($0) }
  }

  /// The 32-byte digest. The hasher is spent afterwards.
  public mutating func finalize() -> [UInt8] {
    let bitLength = length &* 8
    var pad: [UInt8] = [0x80]
    let used = (tail.count + 1) % 64
    pad += [UInt8](repeating: 0, count: used <= 56 ? 56 - used : 120 - used)
    for i in (0..<8).reversed() { pad.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
    let saved = length
    pad.withUnsafeBytes { update($0) }
    length = saved
    return [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7].flatMap { word in
      [UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)]
    }
  }

  /// The lowercase hex digest, as `sha256sum` prints it.
  public mutating func finalizeHex() -> String {
    let digits = Array("0123456789abcdef")
    var out = ""
    out.reserveCapacity(64)
    for byte in finalize() {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0xf)])
    }
    return out
  }

  public static func hex<D: Sequence>(_ data: D) -> String where D.Element == UInt8 {
    var s = SHA256()
    s.update(data)
    return s.finalizeHex()
  }

  private mutating func compress(blocks: UnsafeRawBufferPointer) {
    var (a0, b0, c0, d0, e0, f0, g0, h0) = h
    Self.k.withUnsafeBufferPointer { k in
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
        var offset = 0
        while offset + 64 <= blocks.count {
          var a = a0, b = b0, c = c0, d = d0, e = e0, f = f0, g = g0, hh = h0
          @inline(__always) func round(_ i: Int, _ wi: UInt32) {
            let s1 = (e >> 6 | e << 26) ^ (e >> 11 | e << 21) ^ (e >> 25 | e << 7)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ s1 &+ ch &+ k[i] &+ wi
            let s0 = (a >> 2 | a << 30) ^ (a >> 13 | a << 19) ^ (a >> 22 | a << 10)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            hh = g; g = f; f = e; e = d &+ t1
            d = c; c = b; b = a; a = t1 &+ s0 &+ maj
          }
          for i in 0..<16 {
            let wi = UInt32(bigEndian: blocks.loadUnaligned(fromByteOffset: offset + i * 4, as: UInt32.self))
            w[i] = wi
            round(i, wi)
          }
          for i in 16..<64 {
            let x = w[i - 15], y = w[i - 2]
            let s0 = (x >> 7 | x << 25) ^ (x >> 18 | x << 14) ^ (x >> 3)
            let s1 = (y >> 17 | y << 15) ^ (y >> 19 | y << 13) ^ (y >> 10)
            let wi = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            w[i] = wi
            round(i, wi)
          }
          a0 &+= a; b0 &+= b; c0 &+= c; d0 &+= d
          e0 &+= e; f0 &+= f; g0 &+= g; h0 &+= hh
          offset += 64
        }
      }
    }
    h = (a0, b0, c0, d0, e0, f0, g0, h0)
  }
}

