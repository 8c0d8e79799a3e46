public import OSIS
import Workflow

/// Every kind the appliance keeps a SQL view of, for the REST API and `provision osis`.
public enum ApplianceViews {
    public static let definitions: [ViewDefinition] = [Machine.view, Lease.view, Run.view, Job.view, Event.view]
}
