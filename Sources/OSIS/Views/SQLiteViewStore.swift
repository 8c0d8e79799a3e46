import Foundation

/// Views in SQLite: by default in the same file as the KV store.
///
/// Queries run on a connection of their own (WAL readers never wait for writers). Writes either have
/// their own connection too, or, when the views live in the embedded KV store's file, take turns on
/// the store's writer: two connections writing one file would wait on SQLite's write lock, and under
/// load the views would starve behind the store's back-to-back commits.
public final class SQLiteViewStore: ViewStore {
    private enum Writer {
        case own(SQLiteWorker)
        case store(GroupCommitWriter)
    }

    public var backendName: String { "sqlite" }
    private let reader: SQLiteWorker
    private let writer: Writer

    /// Views in a file of their own (or beside a KV store this process does not open).
    public convenience init(path: String) throws {
        let connection = try SQLiteConnection(path: path)
        // Views can be rebuilt from the KV store, so they skip the fsync per batch.
        try connection.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
        try self.init(path: path, writer: .own(SQLiteWorker(label: "osis.views.writer", connection: connection)))
    }

    /// Views in the embedded store's own file, written on the store's writer between its commits.
    public convenience init(sharingFileOf store: SQLiteKV) throws {
        try self.init(path: store.path, writer: .store(store.writer))
    }

    private init(path: String, writer: Writer) throws {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA journal_mode = WAL; PRAGMA case_sensitive_like = ON;")
        self.reader = SQLiteWorker(label: "osis.views.reader", connection: connection)
        self.writer = writer
        try writeNow { db in
            try db.execute("CREATE TABLE IF NOT EXISTS view_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        }
    }

    private func writeNow<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        switch writer {
        case .own(let worker): return try worker.sync(body)
        case .store(let store): return try store.exclusiveSync(body)
        }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        switch writer {
        case .own(let worker): return try await worker.run(body)
        case .store(let store): return try await store.exclusive(body)
        }
    }

    public func prepare(_ definitions: [ViewDefinition]) async throws {
        try await write { db in
            for definition in definitions {
                for statement in ViewSQL.createTable(definition, dialect: .sqlite) { try db.execute(statement) }
            }
        }
    }

    public func apply(_ changes: [ViewChange], through revision: Int64, definitions: [String: ViewDefinition]) async throws {
        // Built before taking the writer, which the KV store's commits wait for.
        let statements = changes.compactMap { change in
            ViewSQL.statement(for: change, definitions: definitions, dialect: .sqlite).map { ($0.0, $0.1.map(SQLiteValue.init)) }
        }
        try await write { db in
            try db.execute("BEGIN IMMEDIATE")
            do {
                for (sql, bindings) in statements { try db.query(sql, bindings) }
                try db.query(
                    "INSERT INTO view_state (name, value) VALUES ('revision', ?) ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)",
                    [.integer(revision)])
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    public func appliedRevision() async throws -> Int64 {
        try await reader.run { db in
            try db.rows("SELECT value FROM view_state WHERE name = 'revision'") { $0.int(0) }.first ?? 0
        }
    }

    public func query(_ query: ViewQuery, definition: ViewDefinition) async throws -> ViewPage {
        try await reader.run { db in
            let (whereSQL, bindings) = ViewSQL.whereClause(query, dialect: .sqlite)
            let total = try db.rows("SELECT count(*) FROM \(definition.table) \(whereSQL)", bindings.map(SQLiteValue.init)) { $0.int(0) }.first ?? 0
            let columns = definition.columns.map(\.name)
            let select = (["id", "rev", "json"] + columns).joined(separator: ", ")
            let sql = "SELECT \(select) FROM \(definition.table) \(whereSQL) \(ViewSQL.orderAndPage(query, dialect: .sqlite))"
            let rows = try db.rows(sql, bindings.map(SQLiteValue.init)) { row in
                var values: [String: ViewValue] = [:]
                for (index, column) in definition.columns.enumerated() {
                    let position = Int32(index + 3)
                    if row.isNull(position) {
                        values[column.name] = .null
                    } else {
                        switch column.type {
                        case .text: values[column.name] = .text(row.text(position))
                        case .integer: values[column.name] = .integer(row.int(position))
                        case .real: values[column.name] = .real(row.double(position))
                        }
                    }
                }
                return ViewPage.Row(id: row.text(0), revision: row.int(1), columns: values, json: row.text(2))
            }
            let revision = try db.rows("SELECT value FROM view_state WHERE name = 'revision'") { $0.int(0) }.first ?? 0
            return ViewPage(rows: rows, total: Int(total), revision: revision)
        }
    }

    public func reset(_ definitions: [ViewDefinition]) async throws {
        try await write { db in
            try db.execute("BEGIN IMMEDIATE")
            for definition in definitions { try db.execute("DROP TABLE IF EXISTS \(definition.table)") }
            try db.execute("DELETE FROM view_state")
            try db.execute("COMMIT")
            for definition in definitions {
                for statement in ViewSQL.createTable(definition, dialect: .sqlite) { try db.execute(statement) }
            }
        }
    }

    public func close() async {}
}

extension SQLiteValue {
    init(_ value: ViewValue) {
        switch value {
        case .text(let text): self = .text(text)
        case .integer(let integer): self = .integer(integer)
        case .real(let real): self = .real(real)
        case .null: self = .null
        }
    }
}
