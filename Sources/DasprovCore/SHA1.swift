import Crypto

/// SHA-1, only for comparing MySQL `mysql_native_password` hashes
/// (`*` + hex(SHA1(SHA1(password)))) on the controller, so a password never has to be sent to a
/// host to find out whether it changed. Not for anything security-relevant: swift-crypto files
/// it under `Insecure` for that reason.
public enum SHA1 {
  public static func digest<S: Sequence>(_ input: S) -> [UInt8] where S.Element == UInt8 {
    Array(Insecure.SHA1.hash(data: Array(input)))
  }

  /// MySQL's `PASSWORD()` / mysql_native_password hash: `*` and 40 uppercase hex digits.
  public static func mysqlNativePassword(_ password: String) -> String {
    "*" + Hex.string(digest(digest(Array(password.utf8))), uppercase: true)
  }
}
