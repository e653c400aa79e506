/// What everything a run prints goes through: the secrets to mask and the source texts that
/// diagnostics quote.
///
/// The CLI makes one per run and passes it down to the readers (which register files and
/// secrets) and to the writers (output, diagnostics, SSH errors). Nothing about it is global, so
/// two runs — or two tests running in parallel — never see each other's secrets or files.
public struct Reporting: Sendable {
  /// Every secret the run has met: inventory passwords, vault plaintexts, SSH passwords.
  public let secrets: SecretMasker
  /// The text of every file read, by the name diagnostics use for it.
  public let sources: SourceFiles

  public init(secrets: SecretMasker = SecretMasker(), sources: SourceFiles = SourceFiles()) {
    self.secrets = secrets
    self.sources = sources
  }

  /// A renderer that quotes this run's files and masks this run's secrets.
  public func renderer(color: Bool) -> DiagnosticRenderer {
    DiagnosticRenderer(sources: sources, color: color, masker: secrets)
  }
}
