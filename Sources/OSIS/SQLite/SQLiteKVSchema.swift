/// The tables of the embedded KV store. `kv` is the current state; `kv_log` keeps every change by
/// revision so that watches can resume from any revision not yet compacted; `kv_meta` holds the
/// store-wide revision, the compaction point and the last op log batch the tables contain.
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
        CREATE TABLE IF NOT EXISTS kv_log (
            rev INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            key TEXT NOT NULL,
            deleted INTEGER NOT NULL,
            value BLOB NOT NULL,
            create_rev INTEGER NOT NULL,
            version INTEGER NOT NULL,
            lease INTEGER,
            PRIMARY KEY (rev, seq)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS kv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS kv_lease (id INTEGER PRIMARY KEY, ttl_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL);
        INSERT OR IGNORE INTO kv_meta VALUES ('revision', 0), ('compacted', 0), ('batch', 0);
        """

    static let selectColumns = "key, value, create_rev, mod_rev, version, lease"

    /// The `kv_log` columns `event` reads, for watches and for catching up with other processes.
    static let logColumns = "key, value, create_rev, rev, version, lease, deleted"

    /// A `kv_meta` value: `revision`, `compacted` or `batch`.
    static func metaValue(_ db: SQLiteConnection, _ name: String) throws -> Int64 {
        try db.rows("SELECT value FROM kv_meta WHERE name = ?", [.text(name)]) { $0.int(0) }.first ?? 0
    }

    /// Records one change in `kv_log`. A replay from the op log ignores rows already there.
    static func log(_ change: OpLogRecord.KeyChange, in db: SQLiteConnection, replaying: Bool = false) throws {
        let kv = change.keyValue
        try db.query(
            replaying ? insertLogIfAbsent : insertLog,
            [
                .integer(kv.modRevision), .integer(change.seq), .text(kv.key), .integer(change.deleted ? 1 : 0), .blob(kv.value),
                .integer(kv.createRevision), .integer(kv.version), kv.lease.map { .integer($0) } ?? .null,
            ])
    }

    private static let logInsertColumns = "kv_log (rev, seq, key, deleted, value, create_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    private static let insertLog = "INSERT INTO " + logInsertColumns
    private static let insertLogIfAbsent = "INSERT OR IGNORE INTO " + logInsertColumns

    static func event(_ row: SQLiteRow) -> KVEvent {
        KVEvent(kind: row.int(6) == 1 ? .delete : .put, keyValue: keyValue(row))
    }

    static func keyValue(_ row: SQLiteRow) -> KeyValue {
        KeyValue(
            key: row.text(0), value: row.blob(1), createRevision: row.int(2), modRevision: row.int(3),
            version: row.int(4), lease: row.isNull(5) ? nil : row.int(5))
    }
}
