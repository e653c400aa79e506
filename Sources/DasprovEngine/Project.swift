import DasprovCore
import DasprovDSL
import DasprovTasks
import DasprovTemplate
import Foundation
import Synchronization

/// A module: `Modules/NAME/` with `tasks.dasp`, optional `defaults.dasp`, `handlers.dasp` and
/// `templates/`.
public final class Module: TemplateSource, Sendable {
  // Templates are compiled on first use from any planning thread, behind the cache's mutex.
  public let name: String
  public let directory: String
  public let displayDirectory: String
  public let defaults: [VarDecl]
  public let tasks: [TaskDecl]
  /// Each task's statements decoded by its kind, once (by index into `tasks`); nil for an
  /// unknown kind.
  let taskArguments: [Result<any TaskArguments, DiagnosticList>?]
  public let handlers: [HandlerDecl]
  /// Pre-flight checks (`check` in handlers.dasp), run before the first restart.
  public let checks: [HandlerDecl]
  /// Where compiled templates are registered, for diagnostics to quote.
  let sources: SourceFiles
  /// Templates compiled so far, by name, failures included.
  private let compiled = Mutex<[String: Result<CompiledTemplate, DiagnosticList>]>([:])

  init(
    name: String, directory: String, displayDirectory: String, defaults: [VarDecl], tasks: [TaskDecl], handlers: [HandlerDecl],
    checks: [HandlerDecl], sources: SourceFiles
  ) {
    self.sources = sources
    self.checks = checks
    self.name = name
    self.directory = directory
    self.displayDirectory = displayDirectory
    self.defaults = defaults
    self.tasks = tasks
    self.taskArguments = tasks.map(TaskKinds.decode)
    self.handlers = handlers
  }

  public var baseDirectory: String { directory }

  public func template(named name: String, at range: SourceRange) throws(Diagnostic) -> CompiledTemplate {
    switch compile(name) {
    case .success(let t): return t
    case .failure(let list):
      let first = list.diagnostics.first ?? .error("template \(name) failed to compile")
      if first.code == .noTemplate {
        throw Diagnostic.error(first.message, at: range, code: .noTemplate)
      }
      throw Diagnostic.error(
        "template \(name) has errors: \(first.description)", at: range, notes: Array(list.diagnostics.dropFirst()))
    }
  }

  /// Compiles (once) and returns the template, or all its diagnostics.
  func compile(_ name: String) -> Result<CompiledTemplate, DiagnosticList> {
    compiled.withLock { compiled in
      if let cached = compiled[name] { return cached }
      let result = load(name)
      compiled[name] = result
      return result
    }
  }

  /// Reads and compiles `templates/NAME`, or says why it cannot.
  private func load(_ name: String) -> Result<CompiledTemplate, DiagnosticList> {
    let result: Result<CompiledTemplate, DiagnosticList>
    let path = (directory as NSString).appendingPathComponent("templates/\(name)")
    let display = "\(displayDirectory)/templates/\(name)"
    if name.contains("..") || name.hasPrefix("/") {
      result = .failure(
        DiagnosticList([.error("no template '\(name)': template names are relative to \(displayDirectory)/templates", code: .noTemplate)]))
    } else if let data = FileManager.default.contents(atPath: path) {
      if let text = String(data: data, encoding: .utf8) {
        do throws(DiagnosticList) {
          result = .success(try CompiledTemplate(path: display, text: text, sources: sources))
        } catch {
          result = .failure(error)
        }
      } else {
        result = .failure(DiagnosticList([.error("\(display) is not UTF-8 text")]))
      }
    } else {
      let available = (try? FileManager.default.contentsOfDirectory(atPath: (directory as NSString).appendingPathComponent("templates"))) ?? []
      result = .failure(
        DiagnosticList([
          .error(
            "no template '\(name)' in \(displayDirectory)/templates\(Suggestion.didYouMean(name, in: available))", code: .noTemplate)
        ]))
    }
    return result
  }
}

/// A play with the modules it uses.
public struct Play: Sendable {
  public var decl: PlayDecl
  public var file: String
  public var modules: [Module]
  public var name: String { decl.name.name }
}

/// Everything a run needs from the project directory, parsed and cross-checked.
public struct Project: Sendable {
  public var root: String
  public var playbook: String
  public var plays: [Play]
  public var modules: [String: Module]
  public var restartOrder: Expr?
  /// `var` declarations of the playbook files: defaults for every host (e.g. the restart order).
  public var globals: [VarDecl]
  /// Where the project's files (playbooks, modules, templates) are registered for diagnostics.
  public let sources: SourceFiles
  /// The digest of every file the project was loaded from (playbooks, modules, templates):
  /// part of every record key, so an edited module or template is planned the slow way.
  public internal(set) var sourceDigest = Digest256(words: (0, 0, 0, 0))
  /// Collects `sourceDigest` while loading: each file's digest, in load order.
  var sourceDigests: [UInt8] = []

  public init(
    root: String, playbook: String, plays: [Play] = [], modules: [String: Module] = [:], restartOrder: Expr? = nil,
    globals: [VarDecl] = [], sources: SourceFiles = SourceFiles()
  ) {
    self.root = root
    self.playbook = playbook
    self.plays = plays
    self.modules = modules
    self.restartOrder = restartOrder
    self.globals = globals
    self.sources = sources
  }

  /// Every handler a play can notify, by name.
  public func handlers(of play: Play) -> [String: (HandlerDecl, Module)] {
    var out: [String: (HandlerDecl, Module)] = [:]
    for m in play.modules {
      for h in m.handlers where out[h.name.name] == nil { out[h.name.name] = (h, m) }
    }
    return out
  }
}

/// Reads the playbook, the plays it imports and the modules they use.
public enum ProjectLoader {
  /// Loads `playbook` (default `Playbooks/site.dasp`) of the project at `root`, registering
  /// every file it reads with `sources`.
  public static func load(root: String, playbook: String?, sources: SourceFiles = SourceFiles()) throws(DiagnosticList) -> Project {
    var sink = DiagnosticSink()
    let rootURL = URL(fileURLWithPath: root).standardizedFileURL.path
    let playbookPath = absolute(playbook ?? "Playbooks/site.dasp", relativeTo: rootURL)
    var project = Project(root: rootURL, playbook: playbookPath, sources: sources)
    var visited: [String] = []
    var playDecls: [(PlayDecl, String)] = []
    loadPlaybook(playbookPath, root: rootURL, from: nil, visited: &visited, plays: &playDecls, project: &project, sink: &sink)

    var seenPlays: [String: SourceRange] = [:]
    for (decl, file) in playDecls {
      if let first = seenPlays[decl.name.name] {
        sink.error("play '\(decl.name.name)' is defined twice", at: decl.name.range, notes: [.note("first defined here", at: first)])
        continue
      }
      seenPlays[decl.name.name] = decl.name.range
      var modules: [Module] = []
      for m in decl.modules {
        if let module = loadModule(m, root: rootURL, project: &project, sink: &sink) {
          if modules.contains(where: { $0.name == module.name }) {
            sink.warning("module '\(m.name)' is used twice in play '\(decl.name.name)'", at: m.range)
          } else {
            modules.append(module)
          }
        }
      }
      project.plays.append(Play(decl: decl, file: file, modules: modules))
    }
    if project.plays.isEmpty && !sink.hasErrors {
      sink.error("\(display(playbookPath, root: rootURL)) declares no plays", at: nil)
    }
    try sink.throwIfErrors()
    project.sourceDigest = Digest256.of(project.sourceDigests)
    return project
  }

  /// Adds a file's name and bytes to the project's digest.
  static func digest(_ path: String, _ data: Data, into digests: inout [UInt8]) {
    var hasher = SHA256()
    hasher.update(Array(path.utf8) + [0] + Array(String(data.count).utf8) + [0])
    hasher.update(data)
    digests += hasher.finalize()
  }

  static func absolute(_ path: String, relativeTo base: String) -> String {
    let p = path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
    return URL(fileURLWithPath: p).standardizedFileURL.path
  }

  /// The path as users should read it: relative to the current directory when inside it.
  static func display(_ path: String, root: String) -> String {
    let cwd = FileManager.default.currentDirectoryPath
    for base in [cwd, root] where path.hasPrefix(base + "/") {
      return String(path.dropFirst(base.count + 1))
    }
    return path
  }

  private static func read(
    _ path: String, root: String, at range: SourceRange?, project: inout Project, sink: inout DiagnosticSink
  ) -> (SourceFile, String)? {
    let shown = display(path, root: root)
    guard let data = FileManager.default.contents(atPath: path) else {
      sink.error("cannot read \(shown): no such file", at: range)
      return nil
    }
    digest(path, data, into: &project.sourceDigests)
    guard let text = String(data: data, encoding: .utf8) else {
      sink.error("\(shown) is not UTF-8 text", at: range)
      return nil
    }
    let (file, diagnostics) = Parser.parse(text: text, file: shown, sources: project.sources)
    sink.add(contentsOf: diagnostics)
    return (file, shown)
  }

  private static func loadPlaybook(
    _ path: String, root: String, from range: SourceRange?, visited: inout [String], plays: inout [(PlayDecl, String)],
    project: inout Project, sink: inout DiagnosticSink
  ) {
    if visited.contains(path) {
      let chain = (visited + [path]).map { display($0, root: root) }.joined(separator: " → ")
      sink.error("playbooks import each other: \(chain)", at: range)
      return
    }
    visited.append(path)
    defer { visited.removeLast() }
    guard let (file, shown) = read(path, root: root, at: range, project: &project, sink: &sink) else { return }
    for t in file.tasks { sink.error("tasks belong in a module's tasks.dasp, not in a playbook", at: t.range) }
    for h in file.handlers + file.checks { sink.error("handlers and checks belong in a module's handlers.dasp, not in a playbook", at: h.range) }
    project.globals += file.vars
    if let order = file.restartOrder {
      if project.restartOrder != nil {
        sink.error("the restart order is set twice", at: order.range)
      } else {
        project.restartOrder = order
      }
    }
    for (importPath, importRange) in file.imports {
      let base = (path as NSString).deletingLastPathComponent
      loadPlaybook(absolute(importPath, relativeTo: base), root: root, from: importRange, visited: &visited, plays: &plays, project: &project, sink: &sink)
    }
    for p in file.plays { plays.append((p, shown)) }
  }

  private static func loadModule(_ name: Identifier, root: String, project: inout Project, sink: inout DiagnosticSink) -> Module? {
    if let m = project.modules[name.name] { return m }
    let modulesDir = (root as NSString).appendingPathComponent("Modules")
    let dir = (modulesDir as NSString).appendingPathComponent(name.name)
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
      let available = ((try? FileManager.default.contentsOfDirectory(atPath: modulesDir)) ?? []).filter { !$0.hasPrefix(".") }
      sink.error("unknown module '\(name.name)': no directory Modules/\(name.name)\(Suggestion.didYouMean(name.name, in: available))", at: name.range)
      return nil
    }
    let shownDir = display(dir, root: root)
    var defaults: [VarDecl] = []
    var tasks: [TaskDecl] = []
    var handlers: [HandlerDecl] = []
    var checks: [HandlerDecl] = []
    let tasksPath = (dir as NSString).appendingPathComponent("tasks.dasp")
    if FileManager.default.fileExists(atPath: tasksPath) {
      if let (file, _) = read(tasksPath, root: root, at: name.range, project: &project, sink: &sink) {
        tasks = file.tasks
        misplaced(file, allowed: "tasks", sink: &sink)
      }
    } else {
      sink.error("module '\(name.name)' has no tasks.dasp in \(shownDir)", at: name.range)
    }
    let defaultsPath = (dir as NSString).appendingPathComponent("defaults.dasp")
    if FileManager.default.fileExists(atPath: defaultsPath), let (file, _) = read(defaultsPath, root: root, at: name.range, project: &project, sink: &sink) {
      defaults = file.vars
      misplaced(file, allowed: "vars", sink: &sink)
    }
    let handlersPath = (dir as NSString).appendingPathComponent("handlers.dasp")
    if FileManager.default.fileExists(atPath: handlersPath), let (file, _) = read(handlersPath, root: root, at: name.range, project: &project, sink: &sink) {
      handlers = file.handlers
      checks = file.checks
      misplaced(file, allowed: "handlers", sink: &sink)
    }
    // Templates are compiled when first used, but a record's key covers them all.
    let templatesDir = (dir as NSString).appendingPathComponent("templates")
    for entry in ((try? FileManager.default.subpathsOfDirectory(atPath: templatesDir)) ?? []).sorted() {
      let path = (templatesDir as NSString).appendingPathComponent(entry)
      if let data = FileManager.default.contents(atPath: path) { digest(path, data, into: &project.sourceDigests) }
    }
    let module = Module(
      name: name.name, directory: dir, displayDirectory: shownDir, defaults: defaults, tasks: tasks, handlers: handlers, checks: checks,
      sources: project.sources)
    project.modules[name.name] = module
    return module
  }

  /// Each module file holds one kind of declaration, so readers know where to look.
  private static func misplaced(_ file: SourceFile, allowed: String, sink: inout DiagnosticSink) {
    if allowed != "tasks" { for t in file.tasks { sink.error("tasks belong in tasks.dasp", at: t.range) } }
    if allowed != "vars" { for v in file.vars { sink.error("variables belong in defaults.dasp", at: v.range) } }
    if allowed != "handlers" { for h in file.handlers + file.checks { sink.error("handlers and checks belong in handlers.dasp", at: h.range) } }
    for p in file.plays { sink.error("plays belong in Playbooks/", at: p.range) }
    for (_, r) in file.imports { sink.error("imports belong in a playbook", at: r) }
    if let r = file.restartOrder { sink.error("the restart order belongs in the site playbook", at: r.range) }
  }
}
