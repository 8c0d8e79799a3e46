import Foundation

/// Views in SQLite: by default in the same file as the KV store, on a connection of their own.
public final class SQLiteViewStore: ViewStore {
    public var backendName: String { "sqlite" }
    private let worker: SQLiteWorker

    public init(path: String) throws {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA case_sensitive_like = ON;")
        try connection.execute("CREATE TABLE IF NOT EXISTS view_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        worker = SQLiteWorker(label: "osis.views", connection: connection)
    }

    public func prepare(_ definitions: [ViewDefinition]) async throws {
        try await worker.run { db in
            for definition in definitions {
                for statement in ViewSQL.createTable(definition, dialect: .sqlite) { try db.execute(statement) }
            }
        }
    }

    public func apply(_ changes: [ViewChange], through revision: Int64, definitions: [String: ViewDefinition]) async throws {
        try await worker.run { db in
            // Views can be rebuilt from the KV store, so they skip the fsync per batch (synchronous=NORMAL).
            try db.execute("BEGIN IMMEDIATE")
            do {
                for change in changes {
                    guard let (sql, bindings) = ViewSQL.statement(for: change, definitions: definitions, dialect: .sqlite) else { continue }
                    try db.query(sql, bindings.map(SQLiteValue.init))
                }
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
        try await worker.run { db in
            try db.rows("SELECT value FROM view_state WHERE name = 'revision'") { $0.int(0) }.first ?? 0
        }
    }

    public func query(_ query: ViewQuery, definition: ViewDefinition) async throws -> ViewPage {
        try await worker.run { db in
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
        try await worker.run { db in
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
