/// Python's escape sequences in non-raw string and bytes literals.
enum PyEscapes {
  static func decode(_ body: [Unicode.Scalar], bytes: Bool) -> [Unicode.Scalar]? {
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(body.count)
    var i = 0
    while i < body.count {
      let c = body[i]
      guard c == "\\", i + 1 < body.count else {
        out.append(c)
        i += 1
        continue
      }
      let e = body[i + 1]
      i += 2
      switch e {
      case "\\": out.append("\\")
      case "'": out.append("'")
      case "\"": out.append("\"")
      case "a": out.append("\u{07}")
      case "b": out.append("\u{08}")
      case "f": out.append("\u{0C}")
      case "n": out.append("\n")
      case "r": out.append("\r")
      case "t": out.append("\t")
      case "v": out.append("\u{0B}")
      case "0"..."7":
        var value = Int(e.value - 48)
        var n = 1
        while n < 3, i < body.count, body[i] >= "0", body[i] <= "7" {
          value = value * 8 + Int(body[i].value - 48)
          i += 1
          n += 1
        }
        if bytes { value &= 0xFF }
        guard let scalar = Unicode.Scalar(value) else { return nil }
        out.append(scalar)
      case "x":
        guard let v = hex(body, &i, count: 2), let scalar = Unicode.Scalar(v) else { return nil }
        out.append(scalar)
      case "u" where !bytes, "U" where !bytes:
        // Lone surrogates cannot live in a Swift string; treat them as not-a-literal.
        guard let v = hex(body, &i, count: e == "u" ? 4 : 8), let scalar = Unicode.Scalar(v)
        else { return nil }
        out.append(scalar)
      case "N" where !bytes:
        guard i < body.count, body[i] == "{", let close = body[i...].firstIndex(of: "}") else {
          return nil
        }
        let name = String(String.UnicodeScalarView(body[(i + 1)..<close]))
        guard let scalar = UnicodeNames.lookup(name) else { return nil }
        out.append(scalar)
        i = close + 1
      default:
        // Unknown escapes keep their backslash (Python only warns).
        out.append("\\")
        out.append(e)
      }
    }
    return out
  }

  private static func hex(_ body: [Unicode.Scalar], _ i: inout Int, count: Int) -> UInt32? {
    guard i + count <= body.count else { return nil }
    var v: UInt32 = 0
    for k in 0..<count {
      guard let d = hexDigit(body[i + k]) else { return nil }
      v = v * 16 + d
    }
    i += count
    return v
  }

  private static func hexDigit(_ c: Unicode.Scalar) -> UInt32? {
    switch c {
    case "0"..."9": return c.value - 48
    case "a"..."f": return c.value - 87
    case "A"..."F": return c.value - 55
    default: return nil
    }
  }
}

/// `\N{NAME}` lookups, case-insensitive like Python's `unicodedata.lookup`.
private enum UnicodeNames {
  static func lookup(_ name: String) -> Unicode.Scalar? {
    let wanted = name.uppercased()
    for plane in [0x0...0xD7FF, 0xE000...0x10FFFF] {
      for v in plane {
        guard let scalar = Unicode.Scalar(UInt32(v)) else { continue }
        if scalar.properties.name == wanted || scalar.properties.nameAlias == wanted {
          return scalar
        }
      }
    }
    return nil
  }
}
