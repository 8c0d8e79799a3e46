import CSQLite
import Foundation

/// A write the embedded store's writer applies, one revision at most each.
enum KVWrite: Sendable {
    case transaction(KVTransaction)
    case grantLease(ttl: Duration, nowMilliseconds: Int64)
    case keepAlive(KVLease.ID, nowMilliseconds: Int64)
    case revokeLease(KVLease.ID)
    /// Deletes every lease that expired by then, and its keys.
    case expireLeases(nowMilliseconds: Int64)
    /// Drops logged history at or below a revision.
    case compact(through: Int64)
}

enum KVWriteResult: Sendable {
    case transaction(KVTransactionResult)
    case lease(KVLease)
    case done
}

/// Applies writes to the `kv` and `kv_lease` tables inside the writer's open transaction; the writer
/// logs the changes in `kv_history` as one record per group commit.
///
/// `revision` is the store revision; a write that changes any key takes the next one, and every key it
/// changes is logged under it for watches.
///
/// A write that is refused (a failed lease lookup, an invalid key) is refused before it changes
/// anything, so the writer needs no savepoint per write: only a SQLite error can stop a write halfway,
/// and that fails the whole batch.
struct SQLiteKVApplier {
    let db: SQLiteConnection
    var revision: Int64
    /// The statements of compares and puts, run directly: nearly every write uses them.
    /// A key's row (mod_rev, create_rev, version, value): for compares, and for a put that found its key.
    private let keyRow: SQLiteStatement
    private let insertRow: SQLiteStatement
    private let updateRow: SQLiteStatement
    /// What the last compare read of its key's row (nil: no row), so that the put that usually follows
    /// in the same transaction need not look it up again. Any change clears it.
    private var lookedUp: (key: String, row: (createRevision: Int64, version: Int64)?)?
    /// Keys changed by the writes applied so far, in revision order: for the op log and the watch hub.
    var changes: [OpLogRecord.KeyChange] = []
    /// Lease rows set or removed by the writes applied so far, for the op log.
    var leaseChanges: [OpLogRecord.LeaseChange] = []
    /// The highest compaction point applied so far, if any, for readers of the open transaction.
    var compactedThrough: Int64?

    init(db: SQLiteConnection, revision: Int64) throws {
        self.db = db
        self.revision = revision
        keyRow = try db.statement("SELECT mod_rev, create_rev, version, value FROM kv WHERE key = ?")
        insertRow = try db.statement(
            "INSERT INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES (?1, ?2, ?3, ?3, 1, ?4) ON CONFLICT DO NOTHING")
        updateRow = try db.statement("UPDATE kv SET value = ?2, mod_rev = ?3, version = ?4, lease = ?5 WHERE key = ?1")
    }

    /// The changes as watch events.
    var events: [KVEvent] { changes.map(\.event) }

    mutating func apply(_ write: KVWrite) throws -> KVWriteResult {
        switch write {
        case .transaction(let transaction):
            return .transaction(try apply(transaction))
        case .grantLease(let ttl, let now):
            let id = Int64.random(in: 1...Int64.max)
            let ttlMs = ttl.milliseconds
            try db.query("INSERT INTO kv_lease (id, ttl_ms, expires_ms) VALUES (?, ?, ?)", [.integer(id), .integer(ttlMs), .integer(now + ttlMs)])
            leaseChanges.append(.set(id: id, ttlMilliseconds: ttlMs, expiresMilliseconds: now + ttlMs))
            return .lease(KVLease(id: id, ttl: ttl))
        case .keepAlive(let id, let now):
            let ttl = try db.rows("SELECT ttl_ms FROM kv_lease WHERE id = ?", [.integer(id)]) { $0.int(0) }.first
            guard let ttl else { throw KVError.leaseNotFound(id) }
            try db.query("UPDATE kv_lease SET expires_ms = ? WHERE id = ?", [.integer(now + ttl), .integer(id)])
            leaseChanges.append(.set(id: id, ttlMilliseconds: ttl, expiresMilliseconds: now + ttl))
            return .lease(KVLease(id: id, ttl: .milliseconds(ttl)))
        case .revokeLease(let id):
            guard try !db.rows("SELECT 1 FROM kv_lease WHERE id = ?", [.integer(id)], { $0.int(0) }).isEmpty else {
                throw KVError.leaseNotFound(id)
            }
            try endLeases([id])
            return .done
        case .expireLeases(let now):
            let expired = try db.rows("SELECT id FROM kv_lease WHERE expires_ms <= ?", [.integer(now)]) { $0.int(0) }
            try endLeases(expired)
            return .done
        case .compact(let through):
            // A record that reaches past `through` stays whole; readers skip its older changes.
            try db.query("DELETE FROM kv_history WHERE last_rev <= ?", [.integer(through)])
            try db.query("UPDATE kv_meta SET value = max(value, ?) WHERE name = 'compacted'", [.integer(through)])
            compactedThrough = max(compactedThrough ?? 0, through)
            return .done
        }
    }

    private mutating func apply(_ transaction: KVTransaction) throws -> KVTransactionResult {
        lookedUp = nil
        let succeeded = try transaction.compares.allSatisfy { try holds($0) }
        let operations = succeeded ? transaction.then : transaction.otherwise
        for case .put(let key, _, let lease) in operations {
            try KVKey.validate(key)
            if let lease, try db.rows("SELECT 1 FROM kv_lease WHERE id = ?", [.integer(lease)], { $0.int(0) }).isEmpty {
                throw KVError.leaseNotFound(lease)
            }
        }
        let before = revision
        var seq: Int64 = 0
        for operation in operations {
            switch operation {
            case .put(let key, let value, let lease):
                try put(key, value, lease: lease, seq: &seq)
            case .delete(let key):
                try delete(keys: [key], seq: &seq)
            case .deletePrefix(let prefix):
                try delete(keys: keys(prefix: prefix), seq: &seq)
            }
        }
        // The writer records the batch's final revision in kv_meta once, before it commits.
        assert(seq == 0 || revision == before + 1)
        return KVTransactionResult(succeeded: succeeded, revision: revision)
    }

    private mutating func holds(_ compare: KVCompare) throws -> Bool {
        try keyRow.bind(1, compare.key)
        let wantsValue = if case .value = compare { true } else { false }
        let current = try keyRow.run { row in
            (modRevision: row.int(0), createRevision: row.int(1), version: row.int(2), value: wantsValue ? row.blob(3) : nil)
        }
        lookedUp = (compare.key, current.map { ($0.createRevision, $0.version) })
        switch compare {
        case .modRevision(_, let expected): return (current?.modRevision ?? 0) == expected
        case .value(_, let expected): return current?.value == expected
        }
    }

    /// The revision this transaction writes at: taken on its first change.
    private mutating func writeRevision(_ seq: inout Int64) -> Int64 {
        if seq == 0 { revision += 1 }
        seq += 1
        return revision
    }

    private mutating func put(_ key: String, _ value: Data, lease: KVLease.ID?, seq: inout Int64) throws {
        let rev = writeRevision(&seq)
        // A new key is inserted at once; a key that exists is looked up (unless a compare just did) and
        // updated. Not an upsert with `RETURNING`: SQLite buffers returned rows in an ephemeral table, and
        // opening and closing one per put cost more than the lookup. See docs/PERFORMANCE.md (OSIS).
        let known = lookedUp?.key == key ? lookedUp : nil
        lookedUp = nil
        var existing = known?.row
        if existing == nil {
            try insertRow.bind(1, key)
            try insertRow.bind(2, value)
            try insertRow.bind(3, rev)
            try insertRow.bind(4, lease)
            try insertRow.run()
            if db.changes == 0 {
                try keyRow.bind(1, key)
                existing = try keyRow.run { ($0.int(1), $0.int(2)) }
                guard existing != nil else { throw SQLiteError(code: SQLITE_CORRUPT, message: "\(key): refused as a duplicate, yet absent") }
            }
        }
        let stored = existing.map { (createRevision: $0.createRevision, version: $0.version + 1) } ?? (createRevision: rev, version: 1)
        if existing != nil {
            try updateRow.bind(1, key)
            try updateRow.bind(2, value)
            try updateRow.bind(3, rev)
            try updateRow.bind(4, stored.version)
            try updateRow.bind(5, lease)
            try updateRow.run()
        }
        let kv = KeyValue(
            key: key, value: value, createRevision: stored.createRevision, modRevision: rev, version: stored.version,
            lease: lease)
        log(kv, deleted: false, seq: seq)
    }

    private mutating func delete(keys: [String], seq: inout Int64) throws {
        lookedUp = nil
        for key in keys {
            try db.query("DELETE FROM kv WHERE key = ?", [.text(key)])
            guard db.changes > 0 else { continue }
            let rev = writeRevision(&seq)
            let kv = KeyValue(key: key, value: Data(), createRevision: 0, modRevision: rev, version: 0)
            log(kv, deleted: true, seq: seq)
        }
    }

    private mutating func endLeases(_ ids: [KVLease.ID]) throws {
        guard !ids.isEmpty else { return }
        var seq: Int64 = 0
        for id in ids {
            let keys = try db.rows("SELECT key FROM kv WHERE lease = ?", [.integer(id)]) { $0.text(0) }
            try delete(keys: keys, seq: &seq)
            try db.query("DELETE FROM kv_lease WHERE id = ?", [.integer(id)])
            leaseChanges.append(.removed(id: id))
        }
    }

    private func keys(prefix: String) throws -> [String] {
        if let end = KVKey.prefixEnd(prefix) {
            return try db.rows("SELECT key FROM kv WHERE key >= ? AND key < ?", [.text(prefix), .text(end)]) { $0.text(0) }
        }
        return try db.rows("SELECT key FROM kv WHERE key >= ?", [.text(prefix)]) { $0.text(0) }
    }

    private mutating func log(_ kv: KeyValue, deleted: Bool, seq: Int64) {
        changes.append(OpLogRecord.KeyChange(seq: seq, deleted: deleted, keyValue: kv))
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
