import DasprovInventory
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Asks for a vault password on the terminal without echoing it (`--ask-vault-pass`,
/// `--vault-id LABEL@prompt`). Only a terminal can answer: piped input would be read as the
/// password by accident.
enum PasswordPrompt {
  static func read(_ prompt: String) throws(VaultSecretLoader.VaultSourceError) -> String {
    guard isatty(STDIN_FILENO) == 1 else {
      throw .init("asking for a vault password needs a terminal, and standard input is not one; use --vault-password-file FILE or --vault-id LABEL@FILE")
    }
    // The prompt goes to stderr: stdout may be JSON.
    FileHandle.standardError.write(Data(prompt.utf8))
    var saved = termios()
    let canHide = tcgetattr(STDIN_FILENO, &saved) == 0
    if canHide {
      var silent = saved
      silent.c_lflag &= ~tcflag_t(ECHO)
      _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
    }
    let line = readLine(strippingNewline: true)
    if canHide { _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
    FileHandle.standardError.write(Data("\n".utf8))
    guard let line else { throw .init("no vault password was entered (end of input)") }
    return line
  }
}
