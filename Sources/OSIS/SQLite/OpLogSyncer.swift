import Dispatch
import Synchronization

/// Makes the writer's commits durable and acknowledges them, off the writer's queue and in commit order.
///
/// The writer hands over each commit once SQLite has it and its op log record is written; while this
/// queue waits for the fsync, the writer already applies the next batch. Commits that pile up meanwhile
/// share the next fsync. Watchers hear of a commit only once it is durable.
final class OpLogSyncer: Sendable {
    struct Commit: Sendable {
        var events: [KVEvent]
        var acknowledgements: [(CheckedContinuation<KVWriteResult, any Error>, Result<KVWriteResult, any Error>)]
        /// False for commits already durable elsewhere (another process's, taken in by the writer).
        var needsSync: Bool
    }

    private struct Waiting {
        var commits: [Commit] = []
        var draining = false
    }

    private let oplog: SQLiteOpLog
    private let published: @Sendable ([KVEvent]) -> Void
    private let queue = DispatchQueue(label: "osis.kv.sync")
    private let waiting = Mutex(Waiting())

    /// - Parameter published: called with each commit's changes once durable, in revision order.
    init(oplog: SQLiteOpLog, published: @escaping @Sendable ([KVEvent]) -> Void) {
        self.oplog = oplog
        self.published = published
    }

    func enqueue(_ commit: Commit) {
        let start = waiting.withLock { state in
            state.commits.append(commit)
            defer { state.draining = true }
            return !state.draining
        }
        if start { queue.async { self.drain() } }
    }

    private func drain() {
        while true {
            let commits = waiting.withLock { state in
                defer { state.commits = [] }
                if state.commits.isEmpty { state.draining = false }
                return state.commits
            }
            guard !commits.isEmpty else { return }
            var synced: Result<Void, KVError> = .success(())
            if commits.contains(where: \.needsSync) {
                synced = Result { () throws(KVError) in try oplog.sync() }
            }
            for commit in commits {
                // A failed fsync leaves the commit in SQLite, where later commits build on it: watchers
                // still hear of it, but its writers are told it may not be durable.
                if !commit.events.isEmpty { published(commit.events) }
                for (continuation, result) in commit.acknowledgements {
                    switch synced {
                    case .success: continuation.resume(with: result)
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                }
            }
        }
    }
}
