public import Foundation

/// What happens to a run: the inputs of `RunStateMachine`.
public enum RunInput: Sendable, Hashable {
    /// A worker is free to run the ready step.
    case slotAcquired(step: String)
    /// An attempt of a step ended.
    case attemptEnded(step: String, attempt: Int, AttemptResult)
    /// A timer set by the machine fired (retry backoff over, sleep over, a deadline reached).
    case timerFired(step: String, attempt: Int)
    /// The whole run's deadline passed.
    case runDeadline
    case event(Event)
    case cancel(reason: String)
    /// Retry a failed run from its failed steps, keeping what succeeded.
    case resume
}

/// How an attempt ended.
public enum AttemptResult: Sendable, Hashable {
    case outcome(StepOutcome)
    case failed(String)
}

/// What the engine must do, in order: commit, then act. Nothing is started, scheduled or reported
/// before the state that explains it is durable.
public struct RunDecision: Sendable {
    /// Jobs (and the run) whose state changed; committed in one transaction before anything else.
    public var jobs: [Job] = []
    public var run: Run?
    /// Steps that became ready: each needs a worker slot (then `.slotAcquired`).
    public var ready: [String] = []
    /// Steps to run now, with their resolved arguments.
    public var execute: [StepExecution] = []
    /// Timers to set: `.timerFired(step, attempt)` at the date.
    public var timers: [(step: String, attempt: Int, at: Date)] = []
    /// Running attempts to abandon (cancelled, timed out).
    public var abandon: [String] = []
    /// Steps now waiting for events, so the engine routes matching events here.
    public var awaitingEvents = false
    /// True once the run reached a final state.
    public var finished = false

    public var isEmpty: Bool { jobs.isEmpty && run == nil && ready.isEmpty && execute.isEmpty && timers.isEmpty && abandon.isEmpty }
}

/// One attempt to run.
public struct StepExecution: Sendable {
    public var step: String
    public var attempt: Int
    public var action: String
    public var arguments: [String: SpecValue]
}
