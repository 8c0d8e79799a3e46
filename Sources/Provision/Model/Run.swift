public import Foundation
public import OSIS

/// A run of a workflow for a machine: the root job of a tree of step jobs.
public struct Run: OSISObject, Hashable {
    public static let kind = "run"
    public static let viewColumns = [
        ViewColumn("workflow"), ViewColumn("machine"), ViewColumn("state"), ViewColumn("started", field: "startedAt"),
        ViewColumn("finished", field: "finishedAt"),
    ]

    public var id: String
    public var workflow: String
    public var machine: String?
    public var state: JobState
    public var startedAt: Date
    public var finishedAt: Date?

    public init(id: String, workflow: String, machine: String?, state: JobState, startedAt: Date = Date(), finishedAt: Date? = nil) {
        self.id = id
        self.workflow = workflow
        self.machine = machine
        self.state = state
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// One step of a run.
public struct Job: OSISObject, Hashable {
    public static let kind = "job"
    public static let viewColumns = [
        ViewColumn("run"), ViewColumn("step"), ViewColumn("action"), ViewColumn("state"), ViewColumn("attempt", .integer),
        ViewColumn("updated", field: "updatedAt"),
    ]

    /// `<run>.<step>`.
    public var id: String { "\(run).\(step)" }
    public var run: String
    public var step: String
    public var action: String
    public var state: JobState
    public var attempt: Int
    public var updatedAt: Date

    public init(run: String, step: String, action: String, state: JobState, attempt: Int = 0, updatedAt: Date = Date()) {
        self.run = run
        self.step = step
        self.action = action
        self.state = state
        self.attempt = attempt
        self.updatedAt = updatedAt
    }
}

/// The states a run or a job moves through.
public enum JobState: String, Codable, Sendable, CaseIterable {
    case pending, ready, running, waiting, succeeded, failed, cancelled, timedOut = "timed_out", skipped
}

/// Every kind the appliance keeps a SQL view of.
public enum ApplianceViews {
    public static let definitions: [ViewDefinition] = [Machine.view, Lease.view, Run.view, Job.view, Event.view]
}
