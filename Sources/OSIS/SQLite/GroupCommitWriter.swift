import CoreMetrics
import Dispatch
import Foundation
import Synchronization

/// The embedded store's single writer. Concurrent writers share commits: requests that arrive while a
/// commit is being made durable wait together and go into the next transaction, which pays one fsync
/// for all of them: of the op log record that carries the transaction's changes (`SQLiteOpLog`). A
/// request that is refused is refused before it changes anything (`SQLiteKVApplier`), so one that fails
/// does not undo the others and no savepoint is needed.
final class GroupCommitWriter: Sendable {
    private struct Pending {
        var writes: [(KVWrite, CheckedContinuation<KVWriteResult, any Error>)] = []
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
        self.syncer = OpLogSyncer(oplog: oplog, published: published)
    }

    /// Commits made and writes they carried since the store opened: their ratio is the group size.
    let commits = Atomic<Int>(0)
    let writes = Atomic<Int>(0)
    /// The same on `/metrics`, so an operator sees how many writes each fsync carries.
    private let commitsCounter = Counter(label: "osis_commits_total")
    private let writesCounter = Counter(label: "osis_writes_total")

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
        try await worker.run(body)
    }

    /// `exclusive` for set-up paths outside async contexts.
    func exclusiveSync<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try worker.sync(body)
    }

    /// Commits one batch, then queues itself again while writes are waiting, so that work queued in the
    /// meantime (the views' writes) gets its turn. Runs on the worker's queue.
    private func flush(_ db: SQLiteConnection) {
        // Writers resumed by the last commit are still on their way back with their next write. When
        // fewer than half of the writers seen lately are waiting, give the rest a moment (like
        // PostgreSQL's commit_delay) rather than paying a commit for a handful of writes. Judging by
        // recent batches rather than the last one keeps one small batch from making all later ones small.
        let expected = pending.withLock { $0.concurrency }
        if expected >= 4 {
            var waited: UInt32 = 0
            while waited < Self.gatherMicroseconds, pending.withLock({ Double($0.writes.count) }) < expected / 2 {
                usleep(Self.gatherStepMicroseconds)
                waited += Self.gatherStepMicroseconds
            }
        }
        let batch = pending.withLock { state in
            let batch = state.writes
            state.writes = []
            state.concurrency = max(Double(batch.count), state.concurrency * 0.9)
            if batch.isEmpty { state.flushing = false }
            return batch
        }
        guard !batch.isEmpty else { return }
        commit(batch, db)
        worker.async { self.flush($0) }
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
        let events = try db.rows(
            "SELECT \(SQLiteKVSchema.logColumns) FROM kv_log WHERE rev > ? AND rev <= ? ORDER BY rev, seq",
            [.integer(mine), .integer(stored)], SQLiteKVSchema.event)
        revision.withLock { $0 = stored }
        if !events.isEmpty { syncer.enqueue(.init(events: events, acknowledgements: [], needsSync: false)) }
        return true
    }

    /// How long the writer waits, at most, for writers it just resumed; and how often it looks.
    static let gatherMicroseconds: UInt32 = 500
    static let gatherStepMicroseconds: UInt32 = 25

    private func commit(_ batch: [(KVWrite, CheckedContinuation<KVWriteResult, any Error>)], _ db: SQLiteConnection) {
        var applier = SQLiteKVApplier(db: db, revision: committedRevision)
        var results: [Result<KVWriteResult, any Error>] = []
        var record = OpLogRecord(batch: 0, revision: 0)
        var appendedAt: Int?
        do {
            try db.query("BEGIN IMMEDIATE")
            // Holding the write lock, nobody else can commit until this transaction ends.
            if try catchUp(db) { applier = SQLiteKVApplier(db: db, revision: committedRevision) }
            for (write, _) in batch {
                do {
                    results.append(.success(try applier.apply(write)))
                } catch let error as KVError {
                    results.append(.failure(error))
                }
            }
            record = OpLogRecord(
                batch: self.batch.withLock { $0 } + 1, revision: applier.revision, changes: applier.changes,
                leases: applier.leaseChanges)
            if !record.isEmpty {
                if applier.revision != committedRevision {
                    try db.query("UPDATE kv_meta SET value = ? WHERE name = 'revision'", [.integer(applier.revision)])
                }
                try db.query("UPDATE kv_meta SET value = ? WHERE name = 'batch'", [.integer(record.batch)])
                let frame = record.encoded()
                if !oplog.fits(frame) {
                    // Everything the log holds goes durably into SQLite's files; then the log starts over.
                    try SQLiteOpLog.syncDatabase(at: databasePath)
                    oplog.restart()
                }
                appendedAt = try oplog.append(frame)
            }
            try db.query("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            db.resetStatements()
            if let appendedAt { oplog.retract(at: appendedAt) }
            for (_, continuation) in batch { continuation.resume(throwing: KVError.unavailable("commit failed: \(error)")) }
            return
        }
        if !record.isEmpty { self.batch.withLock { $0 = record.batch } }
        revision.withLock { $0 = applier.revision }
        commits.add(1, ordering: .relaxed)
        writes.add(batch.count, ordering: .relaxed)
        commitsCounter.increment()
        writesCounter.increment(by: Int64(batch.count))
        syncer.enqueue(.init(
            events: applier.events, acknowledgements: Array(zip(batch.lazy.map(\.1), results)), needsSync: !record.isEmpty))
    }
}
