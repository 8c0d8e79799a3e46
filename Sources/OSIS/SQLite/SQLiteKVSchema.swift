import Foundation

/// The tables of the embedded KV store. `kv` is the current state; `kv_history` keeps every change so
/// that watches can resume from any revision not yet compacted; `kv_meta` holds the store-wide revision,
/// the compaction point and the last op log batch the tables contain.
///
/// `kv_history` holds one row per group commit, keyed by its first revision: the commit's op log record
/// as written to the log (`OpLogRecord`), so logging a commit costs one insert, not one per change.
///
/// `synchronous = NORMAL`: commits are consistent but not durable on their own; the op log
/// (`SQLiteOpLog`) makes them durable before they are acknowledged.
enum SQLiteKVSchema {
    static let pragmas = """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        PRAGMA foreign_keys = OFF;
        """

    static let tables = """
        CREATE TABLE IF NOT EXISTS kv (
            key TEXT PRIMARY KEY,
            value BLOB NOT NULL,
            create_rev INTEGER NOT NULL,
            mod_rev INTEGER NOT NULL,
            version INTEGER NOT NULL,
            lease INTEGER
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS kv_history (
            rev INTEGER PRIMARY KEY,
            last_rev INTEGER NOT NULL,
            record BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS kv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS kv_lease (id INTEGER PRIMARY KEY, ttl_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL);
        INSERT OR IGNORE INTO kv_meta VALUES ('revision', 0), ('compacted', 0), ('batch', 0);
        """

    static let selectColumns = "key, value, create_rev, mod_rev, version, lease"

    /// A `kv_meta` value: `revision`, `compacted` or `batch`.
    static func metaValue(_ db: SQLiteConnection, _ name: String) throws -> Int64 {
        try db.rows("SELECT value FROM kv_meta WHERE name = ?", [.text(name)]) { $0.int(0) }.first ?? 0
    }

    /// Records a commit's key changes in `kv_history`: `frame` is its encoded op log record. A replay
    /// from the op log ignores records already there.
    static func logHistory(_ record: OpLogRecord, frame: [UInt8], in db: SQLiteConnection) throws {
        guard let first = record.changes.first?.keyValue.modRevision else { return }
        try db.query(
            "INSERT OR IGNORE INTO kv_history (rev, last_rev, record) VALUES (?, ?, ?)",
            [.integer(first), .integer(record.revision), .blob(Data(frame))])
    }

    /// The logged changes after `revision` and at most `through`, in revision order.
    static func history(after revision: Int64, through: Int64 = .max, in db: SQLiteConnection) throws -> [KVEvent] {
        // The record holding `revision + 1` may start before it: begin at the last one starting at or below.
        let records = try db.rows(
            """
            SELECT record FROM kv_history
            WHERE rev >= (SELECT coalesce(max(rev), 0) FROM kv_history WHERE rev <= ?1) AND rev <= ?2 ORDER BY rev
            """,
            [.integer(revision + 1), .integer(through)]
        ) { row in try row.withBlob(0) { try OpLogRecord.decode($0).record } }
        var events: [KVEvent] = []
        for record in records {
            for change in record.changes where change.keyValue.modRevision > revision && change.keyValue.modRevision <= through {
                events.append(change.event)
            }
        }
        return events
    }

    /// Moves a file's per-change `kv_log` rows, as stores before `kv_history` kept them, into `kv_history`
    /// (one record per revision) and drops the old table. Runs once, when such a file is opened.
    static func migrateChangeLog(_ db: SQLiteConnection) throws {
        guard try !db.rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kv_log'", [], { $0.int(0) }).isEmpty else { return }
        try db.execute("BEGIN IMMEDIATE")
        do {
            let rows = try db.rows("SELECT key, value, create_rev, rev, version, lease, deleted, seq FROM kv_log ORDER BY rev, seq") { row in
                OpLogRecord.KeyChange(seq: row.int(7), deleted: row.int(6) == 1, keyValue: keyValue(row))
            }
            var start = rows.startIndex
            while start < rows.endIndex {
                let revision = rows[start].keyValue.modRevision
                let end = rows[start...].firstIndex { $0.keyValue.modRevision != revision } ?? rows.endIndex
                let record = OpLogRecord(batch: 0, revision: revision, changes: Array(rows[start..<end]))
                try logHistory(record, frame: record.encoded(), in: db)
                start = end
            }
            try db.execute("DROP TABLE kv_log")
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    static func keyValue(_ row: SQLiteRow) -> KeyValue {
        KeyValue(
            key: row.text(0), value: row.blob(1), createRevision: row.int(2), modRevision: row.int(3),
            version: row.int(4), lease: row.isNull(5) ? nil : row.int(5))
    }
}
