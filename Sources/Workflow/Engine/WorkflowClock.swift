public import Foundation

/// Where the engine reads time and sleeps. Durable deadlines are wall-clock dates, so the clock speaks
/// `Date`; tests pass a manual clock and move it by hand.
public protocol WorkflowClock: Sendable {
    func now() -> Date
    /// Returns at `date` (at once if it has passed); throws if the task is cancelled.
    func sleep(until date: Date) async throws
}

public struct SystemWorkflowClock: WorkflowClock {
    public init() {}
    public func now() -> Date { Date() }

    public func sleep(until date: Date) async throws {
        let interval = date.timeIntervalSinceNow
        if interval > 0 { try await Task.sleep(for: .milliseconds(Int64(interval * 1000) + 1)) }
    }
}
