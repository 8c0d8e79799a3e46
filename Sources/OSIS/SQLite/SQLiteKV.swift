import Foundation
import Synchronization

/// The embedded KV store: one SQLite file in WAL mode and an op log beside it, durable on
/// acknowledgement, with group commit.
///
/// Another process may open the same file (`provision dns import` beside a running appliance): each
/// commit first takes in the other's commits, and the lease sweeper's commit twice a second does so when
/// this process writes nothing, so watchers here see those changes within a second.
///
/// Writes go through one `GroupCommitWriter`, which keeps SQLite's transaction open across group
/// commits; reads run on a separate connection (WAL readers never block the writer) and add what that
/// transaction holds from `UncommittedChanges`. A read may see a write up to one op log fsync before it
/// is durable and acknowledged; watchers see it only once it is. Other processes reading the file see
/// writes once the writer folds them: when it goes idle, and at least every quarter second under steady
/// writes. Leases expire by wall-clock time, which a sweeper checks twice a second, so they survive
/// restarts.
public final class SQLiteKV: KVStore {
    public var backendName: String { "sqlite" }
    public let path: String

    let writer: GroupCommitWriter
    private let reader: SQLiteWorker
    /// Copies the WAL into the database file on its own connection and thread in quiet moments; under
    /// load the writer's own checkpoints keep the WAL short.
    private let checkpointer: SQLiteWorker
    private let hub = WatchHub()
    private let sweeper: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let closed = Atomic<Bool>(false)

    /// Opens (creating if needed) the store at `path`.
    public init(path: String) throws(KVError) {
        self.path = path
        do {
            let writeConnection = try SQLiteConnection(path: path)
            try writeConnection.execute(SQLiteKVSchema.pragmas)
            // The writer checkpoints too, as it folds, where no frame can be appended meanwhile, so the
            // checkpoint finishes and the next transaction starts the WAL over. Checkpoints only from another
            // thread never caught up under steady writes: the WAL grew by hundreds of MB, and every commit
            // then wrote fresh file blocks. Every 8,000 pages (32 MB) keeps their fsyncs a small share of
            // the writer's time. See docs/PERFORMANCE.md (OSIS).
            //
            // A 32 MiB page cache holds the pages a fold's transaction dirties. (SQLite scans the whole
            // cache's hash table at the end of every transaction; that cost 10% of the writer's time when
            // each group commit was a transaction, and is negligible once per fold.)
            try writeConnection.execute("PRAGMA wal_autocheckpoint = 8000; PRAGMA cache_size = -32768")
            try writeConnection.execute(SQLiteKVSchema.tables)
            try SQLiteKVSchema.migrateChangeLog(writeConnection)
            let oplog = try SQLiteOpLog(databasePath: path)
            try SQLiteKVRecovery.recover(writeConnection, from: oplog)
            let revision = try SQLiteKVSchema.metaValue(writeConnection, "revision")
            let batch = try SQLiteKVSchema.metaValue(writeConnection, "batch")
            let readConnection = try SQLiteConnection(path: path)
            try readConnection.execute("PRAGMA journal_mode = WAL")
            reader = SQLiteWorker(label: "osis.sqlite.reader", connection: readConnection)
            let checkpointConnection = try SQLiteConnection(path: path)
            try checkpointConnection.execute("PRAGMA synchronous = FULL")
            checkpointer = SQLiteWorker(label: "osis.sqlite.checkpoint", connection: checkpointConnection)
            let hub = self.hub
            writer = GroupCommitWriter(
                worker: SQLiteWorker(label: "osis.sqlite.writer", connection: writeConnection), oplog: oplog, databasePath: path,
                revision: revision, batch: batch, published: { hub.publish($0) })
        } catch let error as SQLiteError {
            throw KVError.unavailable("\(path): \(error)")
        } catch let error as KVError {
            throw error
        } catch {
            throw KVError.unavailable("\(path): \(error)")
        }
        startSweeper()
    }

    public func get(_ key: String) async throws(KVError) -> KeyValue? {
        guard !closed.load(ordering: .relaxed) else { throw KVError.closed }
        // A change not yet in the tables is the key's current state.
        if let change = writer.uncommitted.latest(key) { return change.kind == .put ? change.keyValue : nil }
        return try await read { db in
            try db.rows("SELECT \(SQLiteKVSchema.selectColumns) FROM kv WHERE key = ?", [.text(key)], SQLiteKVSchema.keyValue).first
        }
    }

    public func range(prefix: String, after: String?, limit: Int) async throws(KVError) -> KVPage {
        let limit = max(1, limit)
        // Taken before the tables are read: see `UncommittedChanges` for why the two then agree.
        let uncommitted = writer.uncommitted.snapshot(prefix: prefix, after: after)
        return try await read { db in
            try db.execute("BEGIN")
            defer { try? db.execute("COMMIT") }
            var sql = "SELECT \(SQLiteKVSchema.selectColumns) FROM kv WHERE "
            var bindings: [SQLiteValue]
            if let after, after >= prefix {
                sql += "key > ?"
                bindings = [.text(after)]
            } else {
                sql += "key >= ?"
                bindings = [.text(prefix)]
            }
            if let end = KVKey.prefixEnd(prefix) {
                sql += " AND key < ?"
                bindings.append(.text(end))
            }
            sql += " ORDER BY key LIMIT ?"
            let fetch = limit + 1 + uncommitted.deletions
            bindings.append(.integer(Int64(fetch)))
            let rows = try db.rows(sql, bindings, SQLiteKVSchema.keyValue)
            let revision = try SQLiteKVSchema.metaValue(db, "revision")
            return uncommitted.page(rows: rows, exhausted: rows.count < fetch, tablesRevision: revision, limit: limit)
        }
    }

    public func transaction(_ transaction: KVTransaction) async throws(KVError) -> KVTransactionResult {
        guard case .transaction(let result) = try await write(.transaction(transaction)) else {
            throw KVError.unavailable("unexpected writer result")
        }
        return result
    }

    public func watch(prefix: String, after revision: Int64) -> KVWatch {
        hub.watch(prefix: prefix, after: revision) { [reader, writer] in
            let uncommitted = writer.uncommitted.snapshot(after: revision)
            return try await reader.run { db in
                try db.execute("BEGIN")
                defer { try? db.execute("COMMIT") }
                let meta = try db.rows("SELECT name, value FROM kv_meta") { ($0.text(0), $0.int(1)) }
                let current = meta.first { $0.0 == "revision" }?.1 ?? 0
                let compacted = max(meta.first { $0.0 == "compacted" }?.1 ?? 0, uncommitted.compacted)
                guard revision >= compacted else { throw KVError.compacted(requested: revision, oldest: compacted) }
                let events = try SQLiteKVSchema.history(after: revision, in: db)
                return uncommitted.history(logged: events, tablesRevision: current)
            }
        }
    }

    public func grantLease(ttl: Duration) async throws(KVError) -> KVLease {
        guard case .lease(let lease) = try await write(.grantLease(ttl: ttl, nowMilliseconds: Self.now())) else {
            throw KVError.unavailable("unexpected writer result")
        }
        return lease
    }

    public func keepAlive(_ lease: KVLease.ID) async throws(KVError) -> KVLease {
        guard case .lease(let lease) = try await write(.keepAlive(lease, nowMilliseconds: Self.now())) else {
            throw KVError.unavailable("unexpected writer result")
        }
        return lease
    }

    public func revokeLease(_ lease: KVLease.ID) async throws(KVError) {
        _ = try await write(.revokeLease(lease))
    }

    /// Commits made and writes they carried since the store opened (writes / commits is the average
    /// group size).
    public var groupCommits: (commits: Int, writes: Int) {
        (writer.commits.load(ordering: .relaxed), writer.writes.load(ordering: .relaxed))
    }

    /// SQLite transactions the writer committed since the store opened: each carries the group commits
    /// made while it was open (see `UncommittedChanges`).
    public var folds: Int { writer.folds.load(ordering: .relaxed) }

    public func currentRevision() async throws(KVError) -> Int64 {
        writer.committedRevision
    }

    public func ping() async throws(KVError) {
        _ = try await read { db in try db.rows("SELECT 1") { $0.int(0) } }
    }

    /// Discards history at or below `revision`: watches can then no longer start before it.
    public func compact(through revision: Int64) async throws(KVError) {
        _ = try await write(.compact(through: revision))
    }

    public func close() async {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        sweeper.withLock { $0?.cancel() }
        await writer.fold()
        _ = try? await checkpointer.run { db in try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        hub.finishAll()
    }

    private func write(_ write: KVWrite) async throws(KVError) -> KVWriteResult {
        guard !closed.load(ordering: .relaxed) else { throw KVError.closed }
        return try await writer.submit(write)
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws(KVError) -> T {
        guard !closed.load(ordering: .relaxed) else { throw KVError.closed }
        do {
            return try await reader.run(body)
        } catch let error as KVError {
            throw error
        } catch {
            throw KVError.unavailable("\(error)")
        }
    }

    /// Expires leases twice a second, and checkpoints the WAL when nothing else was written since the last
    /// round.
    private func startSweeper() {
        let task = Task { [weak self] in
            var seen = -1
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                guard let self else { return }
                // Under load the writer checkpoints as it folds, where it must; a checkpoint from here as
                // well would only add fsyncs beside the op log's. So only when nothing else was written.
                let quiet = self.writer.commits.load(ordering: .relaxed) == seen
                _ = try? await self.write(.expireLeases(nowMilliseconds: Self.now()))
                seen = self.writer.commits.load(ordering: .relaxed)
                guard quiet else { continue }
                // PASSIVE never waits for the writer or readers; what it cannot copy now, it copies next time.
                _ = try? await self.checkpointer.run { db in try db.execute("PRAGMA wal_checkpoint(PASSIVE)") }
            }
        }
        sweeper.withLock { $0 = task }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
