import CLinuxShims
import CoreMetrics
import Dispatch
import Foundation
import Synchronization

/// The embedded store's single writer. Concurrent writers share commits: requests that arrive while a
/// commit is being made durable wait together and go into the next group commit, which pays one fsync
/// for all of them: of the op log record that carries its changes (`SQLiteOpLog`). A request that is
/// refused is refused before it changes anything (`SQLiteKVApplier`), so one that fails does not undo
/// the others.
///
/// Group commits are durable through the op log, so SQLite's own transaction stays open across many of
/// them and is committed ("folded") when the writer goes idle, every `foldInterval` or `foldChanges`,
/// before work from outside the store (`exclusive`) and before the op log starts over. Until then
/// readers find the changes in `uncommitted`.
final class GroupCommitWriter: Sendable {
    /// A writer waiting for its write's answer.
    typealias Writer = CheckedContinuation<KVWriteResult, any Error>

    private struct Pending {
        var writes: [(KVWrite, Writer)] = []
        var flushing = false
        /// How many writers have been waiting at once lately: the largest recent batch, decaying.
        var concurrency = 0.0
    }

    private let worker: SQLiteWorker
    private let oplog: SQLiteOpLog
    private let databasePath: String
    private let pending = Mutex(Pending())
    private let revision: Mutex<Int64>
    /// The last op log batch committed, by this process or another.
    private let batch: Mutex<Int64>
    /// The connection's `PRAGMA data_version` when it last looked for other processes' commits.
    private let dataVersion: Mutex<Int64>
    /// Where commits are made durable and writers resumed: the fsync and the futex call per writer stay
    /// off the writer's queue, which meanwhile applies the next batch.
    private let syncer: OpLogSyncer
    /// The changes of the open SQLite transaction, for readers on other connections.
    let uncommitted = UncommittedChanges()

    /// SQLite's transaction while it spans group commits. Touched only on the worker's queue.
    private struct OpenTransaction {
        var opened: ContinuousClock.Instant
        var changes = 0
    }
    private let open = Mutex<OpenTransaction?>(nil)
    /// Set when a fold failed and the tables could not be rebuilt from the op log: writing on would
    /// build on state the tables lack, so writes fail until the store is opened again.
    private let broken = Mutex<String?>(nil)

    /// - Parameter published: called with each batch's changes after it is durable, in revision order.
    init(
        worker: SQLiteWorker, oplog: SQLiteOpLog, databasePath: String, revision: Int64, batch: Int64,
        published: @escaping @Sendable ([KVEvent]) -> Void
    ) {
        self.worker = worker
        self.oplog = oplog
        self.databasePath = databasePath
        self.revision = Mutex(revision)
        self.batch = Mutex(batch)
        // Never a real data_version: the first commit looks at the stored revision whatever happened since open.
        self.dataVersion = Mutex(-1)
        self.syncer = OpLogSyncer(sync: { () throws(KVError) in try oplog.sync() }, published: published)
    }

    deinit {
        if let fd = wal.withLock({ $0 }), fd >= 0 { Glibc.close(fd) }
    }

    /// Commits made and writes they carried since the store opened: their ratio is the group size.
    let commits = Atomic<Int>(0)
    let writes = Atomic<Int>(0)
    /// SQLite transactions committed: fewer than `commits` when transactions span group commits.
    let folds = Atomic<Int>(0)
    /// The same on `/metrics`, so an operator sees how many writes each fsync carries.
    private let commitsCounter = Counter(label: "osis_commits_total")
    private let writesCounter = Counter(label: "osis_writes_total")
    private let foldsCounter = Counter(label: "osis_folds_total")

    /// The revision of the last commit (durable once the syncer has acknowledged it).
    var committedRevision: Int64 { revision.withLock { $0 } }

    func submit(_ write: KVWrite) async throws(KVError) -> KVWriteResult {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let startFlush = pending.withLock { state in
                    state.writes.append((write, continuation))
                    defer { state.flushing = true }
                    return !state.flushing
                }
                if startFlush { worker.async { self.flush($0) } }
            }
        } catch let error as KVError {
            throw error
        } catch {
            throw KVError.unavailable("\(error)")
        }
    }

    /// Runs `body` on the writer's connection between two commits, outside the op log (for data that
    /// can be rebuilt, like the views), and returns its result.
    func exclusive<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await worker.run { db in
            self.fold(db)
            return try body(db)
        }
    }

    /// `exclusive` for set-up paths outside async contexts.
    func exclusiveSync<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try worker.sync { db in
            fold(db)
            return try body(db)
        }
    }

    /// Commits SQLite's open transaction, if any, e.g. before the store closes.
    func fold() async {
        _ = try? await worker.run { db in self.fold(db) }
    }

    /// Commits one batch, then queues itself again while writes are waiting, so that work queued in the
    /// meantime (the views' writes) gets its turn. Runs on the worker's queue.
    private func flush(_ db: SQLiteConnection) {
        let gathered: Gathered
        do {
            gathered = try gather(db)
        } catch {
            worker.async { self.flush($0) }
            return
        }
        guard let applier = gathered.applier else {
            let idle = pending.withLock { state in
                if state.writes.isEmpty { state.flushing = false }
                return !state.flushing
            }
            guard idle else {
                worker.async { self.flush($0) }
                return
            }
            // An idle writer must not keep the write lock (another process may be waiting for it) nor its
            // changes from other processes' readers. But writers resumed a moment ago may be on their way
            // back: folding at once would fold after nearly every group commit at modest concurrency.
            worker.async(after: Self.idleFoldDelay) { db in
                if self.pending.withLock({ !$0.flushing }) { self.fold(db) }
            }
            return
        }
        pending.withLock { $0.concurrency = max(Double(gathered.batch.count), $0.concurrency * 0.9) }
        commit(gathered.batch, results: gathered.results, applier: applier, db)
        if let transaction = open.withLock({ $0 }),
            transaction.changes >= Self.foldChanges || transaction.opened.duration(to: .now) >= Self.foldInterval
        {
            fold(db)
        }
        worker.async { self.flush($0) }
    }

    /// The writes of one group commit, applied to the open transaction; no applier when none came.
    private struct Gathered {
        var batch: [(KVWrite, Writer)] = []
        var results: [Result<KVWriteResult, any Error>] = []
        var applier: SQLiteKVApplier?
    }

    /// Takes the waiting writes and applies them. Writers resumed by the last commit are still on their
    /// way back with their next write: while fewer than half of the writers seen lately are in, it gives
    /// the rest a moment (like PostgreSQL's commit_delay) rather than paying a commit for a handful of
    /// writes, and applies the ones in meanwhile, so that the commit is ready as soon as enough are.
    /// Judging by recent batches rather than the last one keeps one small batch from making all later
    /// ones small. A SQLite error (only one can stop a write halfway) fails the whole batch, rebuilds the
    /// tables, and is rethrown.
    private func gather(_ db: SQLiteConnection) throws -> Gathered {
        let expected = pending.withLock { $0.concurrency }
        var gathered = Gathered()
        var waited: UInt32 = 0
        do {
            while true {
                let arrived = pending.withLock { state in
                    defer { state.writes = [] }
                    return state.writes
                }
                gathered.batch += arrived
                if !arrived.isEmpty, gathered.applier == nil {
                    if let reason = broken.withLock({ $0 }) { throw KVError.unavailable(reason) }
                    try beginIfNeeded(db)
                    gathered.applier = try SQLiteKVApplier(db: db, revision: committedRevision)
                }
                for (write, _) in arrived {
                    do {
                        gathered.results.append(.success(try gathered.applier!.apply(write)))
                    } catch let error as KVError {
                        gathered.results.append(.failure(error))
                    }
                }
                if expected < 4 || Double(gathered.batch.count) >= expected / 2 || waited >= Self.gatherMicroseconds {
                    return gathered
                }
                if arrived.isEmpty {
                    usleep(Self.gatherStepMicroseconds)
                    waited += Self.gatherStepMicroseconds
                }
            }
        } catch {
            rebuild(db, after: error)
            for (_, writer) in gathered.batch { writer.resume(throwing: KVError.unavailable("commit failed: \(error)")) }
            throw error
        }
    }

    /// Takes in what other processes committed to the file since this connection last looked: their
    /// revision becomes the base of the next commit (two processes never write the same revision) and
    /// their changes go to this process's watchers, in order. True when there was something to take in.
    /// Runs on the worker's queue inside a transaction, so the revision and the history agree.
    private func catchUp(_ db: SQLiteConnection) throws -> Bool {
        // data_version changes only when another connection commits; reading it costs no I/O.
        let version = try db.rows("PRAGMA data_version") { $0.int(0) }.first ?? 0
        guard dataVersion.withLock({ seen in defer { seen = version }; return seen != version }) else { return false }
        let storedBatch = try SQLiteKVSchema.metaValue(db, "batch")
        if batch.withLock({ $0 }) != storedBatch {
            // The other process appended to the op log: find where its records end.
            _ = try oplog.records()
            batch.withLock { $0 = storedBatch }
        }
        let stored = try SQLiteKVSchema.metaValue(db, "revision")
        let mine = committedRevision
        guard stored > mine else { return false }
        let events = try SQLiteKVSchema.history(after: mine, through: stored, in: db)
        revision.withLock { $0 = stored }
        if !events.isEmpty { syncer.enqueue(.init(events: events, acknowledgements: [], needsSync: false)) }
        return true
    }

    /// How long the writer waits, at most, for writers it just resumed; and how often it looks.
    static let gatherMicroseconds: UInt32 = 500
    static let gatherStepMicroseconds: UInt32 = 25

    /// How long SQLite's transaction stays open under steady writes, at most, and how many changes it
    /// carries: readers in other processes see changes this much later, and recovery after a crash
    /// replays up to this many.
    static let foldInterval = Duration.milliseconds(250)
    static let foldChanges = 16384
    /// How long the writer stays idle before it folds.
    static let idleFoldDelay = Duration.milliseconds(2)
    /// The op log starts over, after a fold and a sync of SQLite's files, once less than this is left:
    /// a group commit's record goes wherever the tail is, even past the log's capacity.
    static let oplogReserve = 1 << 20

    /// Opens SQLite's transaction if none is: takes the write lock and whatever other processes committed
    /// meanwhile. Starts the op log over first when it is nearly full.
    private func beginIfNeeded(_ db: SQLiteConnection) throws {
        if !oplog.hasRoom(for: Self.oplogReserve) {
            // Everything the log holds goes durably into SQLite's files; then the log starts over. Under
            // the write lock, so another process never appends to a log that is being restarted.
            fold(db)
            try begin(db)
            try SQLiteOpLog.syncDatabase(at: databasePath)
            oplog.restart()
        }
        if open.withLock({ $0 == nil }) { try begin(db) }
    }

    private func begin(_ db: SQLiteConnection) throws {
        try db.query("BEGIN IMMEDIATE")
        open.withLock { $0 = OpenTransaction(opened: .now) }
        do {
            // Holding the write lock, nobody else can commit until this transaction ends.
            _ = try catchUp(db)
        } catch {
            try? db.execute("ROLLBACK")
            open.withLock { $0 = nil }
            throw error
        }
    }

    /// A descriptor of SQLite's WAL, opened at the first fold. Touched only on the worker's queue.
    private let wal = Mutex<Int32?>(nil)

    /// Starts writing back what the fold appended to the WAL, without waiting: the checkpoint's fsync of
    /// the WAL, which stalls every writer, then has little left to do. (64 writers' view lag p99 went
    /// from 122-148 ms to 31-42 ms; see docs/PERFORMANCE.md.)
    private func startWALWriteback() {
        let fd = wal.withLock { fd in
            if fd == nil { fd = Glibc.open(databasePath + "-wal", O_RDONLY | O_CLOEXEC) }
            return fd ?? -1
        }
        if fd >= 0 { _ = provision_start_writeback(fd) }
    }

    /// Commits SQLite's open transaction: every change in it is durable in the op log already, so a
    /// failure here loses nothing acknowledged; the tables are then rebuilt from the log.
    private func fold(_ db: SQLiteConnection) {
        guard open.withLock({ $0 }) != nil else { return }
        do {
            try db.query("COMMIT")
        } catch {
            rebuild(db, after: error)
            return
        }
        open.withLock { $0 = nil }
        uncommitted.clear()
        startWALWriteback()
        folds.add(1, ordering: .relaxed)
        foldsCounter.increment()
    }

    /// Writes the op log record of a batch applied to the open transaction, and hands it to the syncer.
    private func commit(
        _ batch: [(KVWrite, Writer)], results: [Result<KVWriteResult, any Error>], applier: SQLiteKVApplier,
        _ db: SQLiteConnection
    ) {
        var record = OpLogRecord(batch: 0, revision: 0)
        var appendedAt: Int?
        do {
            record = OpLogRecord(
                batch: self.batch.withLock { $0 } + 1, revision: applier.revision, changes: applier.changes,
                leases: applier.leaseChanges)
            if !record.isEmpty {
                if applier.revision != committedRevision {
                    try db.query("UPDATE kv_meta SET value = ? WHERE name = 'revision'", [.integer(applier.revision)])
                }
                try db.query("UPDATE kv_meta SET value = ? WHERE name = 'batch'", [.integer(record.batch)])
                let frame = record.encoded()
                try SQLiteKVSchema.logHistory(record, frame: frame, in: db)
                appendedAt = try oplog.append(frame)
            }
        } catch {
            if let appendedAt { oplog.retract(at: appendedAt) }
            rebuild(db, after: error)
            for (_, continuation) in batch { continuation.resume(throwing: KVError.unavailable("commit failed: \(error)")) }
            return
        }
        if !record.isEmpty { self.batch.withLock { $0 = record.batch } }
        revision.withLock { $0 = applier.revision }
        let events = applier.events
        uncommitted.add(events)
        if let through = applier.compactedThrough { uncommitted.compacted(through: through) }
        open.withLock { $0?.changes += events.count }
        commits.add(1, ordering: .relaxed)
        writes.add(batch.count, ordering: .relaxed)
        commitsCounter.increment()
        writesCounter.increment(by: Int64(batch.count))
        syncer.enqueue(.init(
            events: events, acknowledgements: Array(zip(batch.lazy.map(\.1), results)), needsSync: !record.isEmpty))
    }

    /// Takes back a group commit that failed halfway (only a SQLite or I/O error can stop one: refusals
    /// come before any change) by rolling the whole open transaction back and replaying the earlier
    /// group commits from the op log, where they are durable. No savepoint per group commit: holding
    /// one makes SQLite copy every page it changes into a statement journal first.
    private func rebuild(_ db: SQLiteConnection, after error: any Error) {
        guard open.withLock({ $0 }) != nil else { return }
        try? db.execute("ROLLBACK")
        open.withLock { $0 = nil }
        db.resetStatements()
        do {
            try SQLiteKVRecovery.recover(db, from: oplog)
            uncommitted.clear()
        } catch let recovery {
            broken.withLock { $0 = "a group commit failed (\(error)) and replaying the op log failed too (\(recovery)); reopen the store" }
        }
    }
}
