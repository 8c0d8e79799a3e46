import Foundation
import Synchronization

/// The SQL of the views, for both SQLite and PostgreSQL: the two differ only in placeholders and types.
///
/// Every identifier interpolated here comes from a `ViewDefinition` (kinds and column names are checked
/// to be plain identifiers) or from a query validated against one; values are always bound.
public enum ViewSQL {
    public enum Dialect: Sendable {
        case sqlite, postgres

        func placeholder(_ index: Int) -> String { self == .sqlite ? "?" : "$\(index)" }

        func type(_ type: ViewColumn.ColumnType) -> String {
            switch (self, type) {
            case (_, .text): return "TEXT"
            case (.sqlite, .integer): return "INTEGER"
            case (.postgres, .integer): return "BIGINT"
            case (.sqlite, .real): return "REAL"
            case (.postgres, .real): return "DOUBLE PRECISION"
            }
        }
    }

    public static func createTable(_ definition: ViewDefinition, dialect: Dialect) -> [String] {
        let integer = dialect.type(.integer)
        let columns = definition.columns.map { ", \($0.name) \(dialect.type($0.type))" }.joined()
        var statements = [
            """
            CREATE TABLE IF NOT EXISTS \(definition.table) (id TEXT PRIMARY KEY, rev \(integer) NOT NULL, \
            deleted \(integer) NOT NULL DEFAULT 0, json TEXT NOT NULL\(columns))
            """
        ]
        for column in definition.columns {
            // Each column has at most one of two indexes: over every live row, or (sparse) over the live
            // rows that have a value. A store made before the column changed kind still has the other
            // one, or one it no longer needs: it goes.
            let full = "\(definition.table)_\(column.name)"
            let sparse = full + "_set"
            let on = "ON \(definition.table) (\(column.name)) WHERE deleted = 0"
            switch (column.indexed, column.sparse) {
            case (false, _):
                statements += ["DROP INDEX IF EXISTS \(full)", "DROP INDEX IF EXISTS \(sparse)"]
            case (true, false):
                statements += ["DROP INDEX IF EXISTS \(sparse)", "CREATE INDEX IF NOT EXISTS \(full) \(on)"]
            case (true, true):
                statements += ["DROP INDEX IF EXISTS \(full)", "CREATE INDEX IF NOT EXISTS \(sparse) \(on) AND \(column.name) IS NOT NULL"]
            }
        }
        return statements
    }

    /// The upsert (or tombstone) for one change; a row only ever moves to a higher revision.
    public static func statement(
        for change: ViewChange, definitions: [String: ViewDefinition], dialect: Dialect
    ) -> (String, [ViewValue])? {
        switch change {
        case .upsert(let kind, let id, let revision, let values, let json):
            guard let definition = definitions[kind] else { return nil }
            return (upsertSQL(definition, dialect: dialect), [.text(id), .integer(revision), .integer(0), .text(json)] + values)
        case .delete(let kind, let id, let revision):
            guard let definition = definitions[kind] else { return nil }
            let sql = """
                INSERT INTO \(definition.table) (id, rev, deleted, json) VALUES (\(dialect.placeholder(1)), \(dialect.placeholder(2)), 1, '{}') \
                ON CONFLICT (id) DO UPDATE SET rev = excluded.rev, deleted = 1, json = '{}' WHERE \(definition.table).rev < excluded.rev
                """
            return (sql, [.text(id), .integer(revision)])
        }
    }

    /// Built once per definition and dialect, not per row: every change written goes through here.
    private static let upserts = Mutex<[UpsertKey: String]>([:])

    private struct UpsertKey: Hashable {
        let definition: ViewDefinition
        let dialect: Dialect
    }

    static func upsertSQL(_ definition: ViewDefinition, dialect: Dialect) -> String {
        let key = UpsertKey(definition: definition, dialect: dialect)
        if let sql = upserts.withLock({ $0[key] }) { return sql }
        let names = ["id", "rev", "deleted", "json"] + definition.columns.map(\.name)
        let placeholders = names.indices.map { dialect.placeholder($0 + 1) }.joined(separator: ", ")
        let updates = names.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        let sql = """
            INSERT INTO \(definition.table) (\(names.joined(separator: ", "))) VALUES (\(placeholders)) \
            ON CONFLICT (id) DO UPDATE SET \(updates) WHERE \(definition.table).rev < excluded.rev
            """
        upserts.withLock { $0[key] = sql }
        return sql
    }

    /// `WHERE …` for a validated query, with its bindings.
    public static func whereClause(_ query: ViewQuery, dialect: Dialect) -> (String, [ViewValue]) {
        var conditions = ["deleted = 0"]
        var bindings: [ViewValue] = []
        for filter in query.filters {
            bindings.append(filter.op == .prefix ? .text(escapeLike("\(filter.value)") + "%") : filter.value)
            let escape = filter.op == .prefix ? " ESCAPE '\\'" : ""
            conditions.append("\(filter.column) \(filter.op.sql) \(dialect.placeholder(bindings.count))\(escape)")
        }
        return ("WHERE " + conditions.joined(separator: " AND "), bindings)
    }

    public static func orderAndPage(_ query: ViewQuery, dialect: Dialect) -> String {
        let direction = query.descending ? "DESC" : "ASC"
        // id breaks ties so pages never overlap or skip.
        return "ORDER BY \(query.sortBy) \(direction), id \(direction) LIMIT \(query.limit) OFFSET \(query.offset)"
    }

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}
