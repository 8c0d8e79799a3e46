/// Callers of `WorkflowEngine.waitUntilFinished`, by run, each under a token so that a cancelled caller
/// can take its own continuation back out.
struct FinishWaiters {
    typealias Waiter = CheckedContinuation<Run?, any Error>
    private var nextToken = 0
    private var byRun: [String: [Int: Waiter]] = [:]

    mutating func newToken() -> Int {
        nextToken += 1
        return nextToken
    }

    mutating func add(_ waiter: Waiter, for runID: String, token: Int) {
        byRun[runID, default: [:]][token] = waiter
    }

    mutating func remove(_ runID: String, token: Int) -> Waiter? {
        defer { if byRun[runID]?.isEmpty == true { byRun[runID] = nil } }
        return byRun[runID]?.removeValue(forKey: token)
    }

    func waits(for runID: String) -> Bool { byRun[runID] != nil }

    mutating func removeAll(_ runID: String) -> [Waiter] {
        byRun.removeValue(forKey: runID).map { Array($0.values) } ?? []
    }
}
