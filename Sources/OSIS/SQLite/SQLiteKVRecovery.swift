/// Brings the tables up to the op log when the store opens: SQLite commits without fsync
/// (`synchronous = NORMAL`), so after a power loss the tables may lack the last commits that were
/// acknowledged; the op log has them.
///
/// Every record carries its commit's rows in their final state, so applying one is idempotent; records
/// whose batch the tables already contain (`kv_meta.batch`) are skipped. The log keeps its records and
/// its tail: they stay the durable copy until the log is next full, so opening costs no fsync.
enum SQLiteKVRecovery {
    /// Returns how many commits were replayed.
    @discardableResult
    static func recover(_ db: SQLiteConnection, from oplog: SQLiteOpLog) throws -> Int {
        // Under the write lock: another process may be writing the same file and appending to the log.
        try db.query("BEGIN IMMEDIATE")
        do {
            let applied = try SQLiteKVSchema.metaValue(db, "batch")
            var replayed = 0
            for record in try oplog.records() where record.batch > applied {
                // A gap means the tables are missing a commit the log no longer has: replaying later ones
                // on top would build on state that never existed.
                guard record.batch == applied + Int64(replayed) + 1 else {
                    throw KVError.unavailable(
                        "\(oplog.path): the op log resumes at batch \(record.batch) but the tables end at \(applied + Int64(replayed))")
                }
                try replay(record, into: db)
                replayed += 1
            }
            try db.query("COMMIT")
            return replayed
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    private static func replay(_ record: OpLogRecord, into db: SQLiteConnection) throws {
        for change in record.changes {
            let kv = change.keyValue
            if change.deleted {
                try db.query("DELETE FROM kv WHERE key = ?", [.text(kv.key)])
            } else {
                try db.query(
                    "INSERT OR REPLACE INTO kv (\(SQLiteKVSchema.selectColumns)) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        .text(kv.key), .blob(kv.value), .integer(kv.createRevision), .integer(kv.modRevision),
                        .integer(kv.version), kv.lease.map { .integer($0) } ?? .null,
                    ])
            }
        }
        try SQLiteKVSchema.logHistory(record, frame: record.encoded(), in: db)
        for lease in record.leases {
            switch lease {
            case .set(let id, let ttl, let expires):
                try db.query("INSERT OR REPLACE INTO kv_lease (id, ttl_ms, expires_ms) VALUES (?, ?, ?)", [.integer(id), .integer(ttl), .integer(expires)])
            case .removed(let id):
                try db.query("DELETE FROM kv_lease WHERE id = ?", [.integer(id)])
            }
        }
        try db.query("UPDATE kv_meta SET value = max(value, ?) WHERE name = 'revision'", [.integer(record.revision)])
        try db.query("UPDATE kv_meta SET value = ? WHERE name = 'batch'", [.integer(record.batch)])
    }
}
