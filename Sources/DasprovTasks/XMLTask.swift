import DasprovCore
import DasprovDSL

/// `xml`: placeholder until DasprovXML lands.
public enum XMLTask: TaskKind {
  public static let name = "xml"
  public static let summary = "edit XML in place on the controller, keeping untouched bytes"
  public static let target: String? = "the remote XML file"
  public static let rules: [StatementRule] = []
  public static func factRequests(_ context: TaskContext) throws(Diagnostic) -> (paths: [FactRequest], probes: [ProbeRequest]) {
    ([FactRequest(try context.targetPath(), [.stat, .content])], [])
  }
  public static func plan(_ context: TaskContext) throws(Diagnostic) -> TaskPlan { TaskPlan() }
}
