import DasprovShell
import DasprovTasks

/// restart.sh: a health-gated restart of one node (see the file for what "healthy" means).
public struct RestartProgram: Sendable {
  public var handler: String
  public var spec: RestartSpec

  public init(handler: String, spec: RestartSpec) {
    self.handler = handler
    self.spec = spec
  }

  public var program: ShellProgram {
    var p = ShellProgram("restart.sh")
    p.set("H", handler)
    p.set("START", command: spec.start)
    if let stop = spec.stop { p.set("STOP", command: stop) } else { p.set("STOP", "") }
    p.set("PIDFILE", spec.pidFile ?? "")
    p.set("LOG", spec.logFile ?? "")
    p.set("LINE", spec.logLine ?? "")
    p.set("ADDR", spec.address)
    p.set("PORT", spec.port.map(String.init) ?? "")
    p.set("TIMEOUT", String(spec.timeoutSeconds))
    if let account = spec.account {
      p.set("ACCOUNT_HOME", account.home)
      p.set("RUN_AS", account.user ?? "")
      p.set("JAVA_HOME_DIR", account.javaHome ?? "")
      for path in account.owns { p.step("owns", [path]) }
    }
    return p
  }

  /// The longest the program can take: its own timeout, and time to report.
  public var timeout: Double { Double(spec.timeoutSeconds) + 30 }
}

/// What restart.sh and command-handler.sh print.
public enum HandlerEvent: ProgramEvent, Hashable {
  case begin
  case stopped
  case started
  case portOpen
  case logLine
  /// Healthy after this many seconds; the pending marker is gone.
  case healthy(Int)
  case failed(String)
  /// A runtime path given to the server's user before the start.
  case owned(String)
  /// One of the server's last ERROR lines since the restart began (sent with a failure).
  case logError(String)

  public init?(_ line: ProgramLine) {
    switch line.tag {
    case "begin": self = .begin
    case "stopped": self = .stopped
    case "started": self = .started
    case "port-open": self = .portOpen
    case "log-line": self = .logLine
    case "healthy": self = .healthy(Int(line.rest) ?? 0)
    case "fail": self = .failed(String(line.rest))
    case "owned": self = .owned(String(line.rest))
    case "log-error": self = .logError(String(line.rest))
    default: return nil
    }
  }

  /// The outcome of a handler program's whole output: healthy, or why not.
  public static func verdict(_ output: [UInt8]) -> Result<Int, HandlerFailure> {
    let events = events(in: output)
    let logged = events.compactMap { if case .logError(let line) = $0 { return line } else { return nil } }
    for e in events {
      guard case .failed(let why) = e else { continue }
      return .failure(.reported(logged.isEmpty ? why : "\(why); the server logged: \(logged.joined(separator: " | "))"))
    }
    for e in events { if case .healthy(let s) = e { return .success(s) } }
    return .failure(.stoppedEarly)
  }
}

/// Why a handler did not end healthy.
public enum HandlerFailure: Error, Sendable, Hashable {
  /// The program said why.
  case reported(String)
  /// It ended without a verdict (killed, or the connection dropped).
  case stoppedEarly
}

/// command-handler.sh: a `command` handler, clearing its marker when it succeeds.
public struct CommandHandlerProgram: Sendable {
  public var handler: String
  public var argv: [String]

  public init(handler: String, argv: [String]) {
    self.handler = handler
    self.argv = argv
  }

  public var program: ShellProgram {
    var p = ShellProgram("command-handler.sh")
    p.set("H", handler)
    p.set("COMMAND", command: argv)
    return p
  }
}
