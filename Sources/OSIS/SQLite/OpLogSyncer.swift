import CoreMetrics
import Dispatch
import Synchronization

/// Makes the writer's commits durable and acknowledges them, off the writer's queue and in commit order.
///
/// The writer hands over each commit once SQLite has it and its op log record is written; while the
/// syncer waits for the fsync, the writer already applies the next batch. Commits that pile up meanwhile
/// share the next fsync. Watchers hear of a commit only once it is durable.
///
/// Where the syncer waits depends on how long fsyncs take. A fast one (50-300 µs on this project's VMs)
/// is waited for on a thread of the shared pool: that thread then goes on to run the writers it has
/// just resumed, where a thread of the syncer's own would have to wake an idle pool thread for them.
/// The wake-up cost the group commit 5-20% of its rate on one machine and about 5% on another
/// (docs/PERFORMANCE.md, seventh and eighth rounds). A slow fsync (a network volume, a busy disk) would
/// keep a pool thread from the appliance's other tasks for too long, so once one has taken `slowSync` or
/// more, the syncer waits on its own thread until one is fast again; a wait under way on the pool moves
/// there too, between two fsyncs.
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

    /// How many drains (runs of fsyncs back to back) started in each place, for tests.
    struct Drains: Equatable {
        var ownThread = 0
        var pool = 0
    }

    private let sync: @Sendable () throws(KVError) -> Void
    private let published: @Sendable ([KVEvent]) -> Void
    private let slowSync: Duration
    private let ownQueue = DispatchQueue(label: "osis.kv.sync")
    /// The pool's own threads: a concurrent queue targets the global queue Swift's tasks run on.
    private let poolQueue = DispatchQueue(label: "osis.kv.sync.pool", attributes: .concurrent)
    private let waiting = Mutex(Waiting())
    private let latestSyncWasSlow = Atomic<Bool>(false)
    private let drainsStarted = Mutex(Drains())
    /// The same on `/metrics`: drains on `own_thread` that keep growing mean flushes of `slowSync` or more.
    private let poolDrainsCounter = Counter(label: "osis_sync_drains_total", dimensions: [("place", "pool")])
    private let ownThreadDrainsCounter = Counter(label: "osis_sync_drains_total", dimensions: [("place", "own_thread")])

    /// - Parameters:
    ///   - sync: makes every commit enqueued so far durable (the op log's fsync).
    ///   - published: called with each commit's changes once durable, in revision order.
    ///   - slowSync: an fsync this long or longer sends the next ones to the syncer's own thread.
    init(
        sync: @escaping @Sendable () throws(KVError) -> Void, published: @escaping @Sendable ([KVEvent]) -> Void,
        slowSync: Duration = .milliseconds(1)
    ) {
        self.sync = sync
        self.published = published
        self.slowSync = slowSync
    }

    var drains: Drains { drainsStarted.withLock { $0 } }

    func enqueue(_ commit: Commit) {
        let start = waiting.withLock { state in
            state.commits.append(commit)
            defer { state.draining = true }
            return !state.draining
        }
        if start { drain(on: queueForNextSync) }
    }

    private var queueForNextSync: DispatchQueue {
        latestSyncWasSlow.load(ordering: .relaxed) ? ownQueue : poolQueue
    }

    private func drain(on queue: DispatchQueue) {
        let onOwnThread = queue === ownQueue
        drainsStarted.withLock { onOwnThread ? ($0.ownThread += 1) : ($0.pool += 1) }
        (onOwnThread ? ownThreadDrainsCounter : poolDrainsCounter).increment()
        queue.async { self.drain(stayingOn: queue) }
    }

    private enum Step {
        case finish
        case move(to: DispatchQueue)
        case sync([Commit])
    }

    private func drain(stayingOn queue: DispatchQueue) {
        while true {
            let step = waiting.withLock { state -> Step in
                if state.commits.isEmpty {
                    state.draining = false
                    return .finish
                }
                let place = queueForNextSync
                if place !== queue { return .move(to: place) }
                defer { state.commits = [] }
                return .sync(state.commits)
            }
            let commits: [Commit]
            switch step {
            case .finish: return
            case .move(let place): return drain(on: place)
            case .sync(let taken): commits = taken
            }
            var synced: Result<Void, KVError> = .success(())
            if commits.contains(where: \.needsSync) {
                let started = ContinuousClock.now
                synced = Result { () throws(KVError) in try sync() }
                latestSyncWasSlow.store(ContinuousClock.now - started >= slowSync, ordering: .relaxed)
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
