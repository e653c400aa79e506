import DasprovCore
import Foundation
import Synchronization

/// Everything dasprov prints goes through here, so secrets are masked in one place.
public final class Output: Sendable {
  /// Lines come from host worker threads; writing under the lock keeps them whole. When
  /// capturing (tests), the lines are kept here instead of written.
  private let captured: Mutex<[String]?>
  public let masker: SecretMasker
  public let color: Bool
  /// In JSON mode human-readable lines go to stderr, keeping stdout one JSON document.
  public let json: Bool
  public let verbosity: Int

  public init(masker: SecretMasker, color: Bool = false, json: Bool = false, verbosity: Int = 0, capture: Bool = false) {
    self.masker = masker
    self.color = color
    self.json = json
    self.verbosity = verbosity
    self.captured = Mutex(capture ? [] : nil)
  }

  /// A human-readable line (stdout, or stderr in JSON mode).
  public func say(_ text: String) {
    write(text, toError: json)
  }

  /// Only at `-v` and more.
  /// The text is only built at that verbosity (a program's display text is not cheap).
  public func verbose(_ level: Int, _ text: @autoclosure () -> String) {
    if verbosity >= level { write(text(), toError: json) }
  }

  /// Machine-readable output (stdout).
  public func data(_ text: String) { write(text, toError: false) }

  public func error(_ text: String) { write(text, toError: true) }

  public var capturedText: String { captured.withLock { ($0 ?? []).joined(separator: "\n") } }

  private func write(_ text: String, toError: Bool) {
    let masked = masker.mask(text)
    captured.withLock { captured in
      if captured != nil {
        captured?.append(masked)
        return
      }
      let data = Data((masked.hasSuffix("\n") ? masked : masked + "\n").utf8)
      (toError ? FileHandle.standardError : FileHandle.standardOutput).write(data)
    }
  }

  /// What a piece of output is, for its colour on a terminal.
  public enum Style: String, Sendable {
    case heading = "1"
    case failed = "31"
    case added = "32"
    case changed = "33"
  }

  /// `text` in its style's colour when colours are on (ANSI SGR codes), else unchanged.
  public func paint(_ text: String, _ style: Style) -> String {
    color ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
  }
}
