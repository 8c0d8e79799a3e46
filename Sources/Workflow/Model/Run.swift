public import Foundation
public import OSIS

/// A run of a workflow, usually for one machine: the root job of a tree of step jobs.
public struct Run: OSISObject, Hashable {
    public static let kind = "run"
    public static let viewColumns = [
        ViewColumn("workflow"), ViewColumn("machine"), ViewColumn("state"), ViewColumn("started", field: "startedAt"),
        ViewColumn("finished", field: "finishedAt"), ViewColumn("progress", .integer),
    ]

    public var id: String
    public var workflow: String
    public var workflowVersion: Int
    public var machine: String?
    /// The run whose step started this one, for child runs.
    public var parent: String?
    public var parameters: [String: SpecValue]
    public var state: JobState
    /// Percent of steps finished.
    public var progress: Int
    public var error: String?
    public var startedAt: Date
    public var finishedAt: Date?

    public init(
        id: String, workflow: String, workflowVersion: Int, machine: String?, parameters: [String: SpecValue],
        state: JobState = .running, progress: Int = 0, error: String? = nil, startedAt: Date, finishedAt: Date? = nil
    ) {
        self.id = id
        self.workflow = workflow
        self.workflowVersion = workflowVersion
        self.machine = machine
        self.parameters = parameters
        self.state = state
        self.progress = progress
        self.error = error
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// One step of a run: a child job of the run's root job.
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
    /// Tries started so far, across resumes.
    public var attempt: Int
    /// `attempt` when the run was last resumed: the retry policy counts tries from here.
    public var retryBase: Int
    public var outputs: [String: SpecValue]
    public var error: String?
    /// What a waiting job waits for; also a ready job's earliest start (retry backoff) as `.until`.
    public var waitingFor: WaitCondition?
    /// When the current attempt began: events from then on can satisfy its wait.
    public var startedAt: Date?
    /// When the current attempt times out.
    public var deadline: Date?
    /// True for a step that only runs as compensation and has been asked to.
    public var compensating: Bool
    public var updatedAt: Date

    public init(run: String, step: String, action: String, state: JobState = .pending, updatedAt: Date) {
        self.run = run
        self.step = step
        self.action = action
        self.state = state
        self.attempt = 0
        self.retryBase = 0
        self.outputs = [:]
        self.compensating = false
        self.updatedAt = updatedAt
    }
}

/// The states a run or a job moves through.
public enum JobState: String, Codable, Sendable, CaseIterable {
    case pending, ready, running, waiting, succeeded, failed, cancelled, timedOut = "timed_out", skipped

    /// No transition leaves these.
    public var isFinal: Bool { [.succeeded, .failed, .cancelled, .timedOut, .skipped].contains(self) }
}
