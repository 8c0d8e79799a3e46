import Foundation
public import OSIS
public import Logging
import PostgresNIO

/// Views in PostgreSQL, for appliances that share state through etcd: every node's API reads the same
/// tables. The schema and SQL are the SQLite views' (`ViewSQL`), with PostgreSQL placeholders and types.
public final class PostgresViewStore: ViewStore {
    public var backendName: String { "postgres" }
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger

    private let schema: String?

    /// Connects to `url` (`postgres://user:password@host:port/database`). With `schema`, the views live in
    /// that schema (created if missing) instead of the user's default.
    public init(url: String, schema: String? = nil, logger: Logger = Logger(label: "osis.views.postgres")) throws {
        if let schema, !ViewDefinition.isIdentifier(schema) { throw ViewQueryError.backend("bad schema name '\(schema)'") }
        self.schema = schema
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
            throw ViewQueryError.backend("not a PostgreSQL URL: \(url)")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? nil : database, tls: .disable)
        configuration.options.maximumConnections = 8
        if let schema { configuration.options.additionalStartupParameters = [("options", "-c search_path=\(schema)")] }
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        // The first query may race the client's run loop starting; PostgresNIO warns about that per query,
        // which is noise here, so queries log only errors.
        var queryLogger = logger
        queryLogger.logLevel = .error
        self.logger = queryLogger
        let client = self.client
        runner = Task { await client.run() }
    }

    public func prepare(_ definitions: [ViewDefinition]) async throws {
        try await client.withTransaction(logger: logger) { connection in
            // One appliance at a time creates the tables; the others wait here and then see them.
            try await connection.query("SELECT pg_advisory_xact_lock(4242)", logger: logger)
            if let schema {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
            }
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS view_state (name TEXT PRIMARY KEY, value BIGINT NOT NULL)", logger: logger)
            for definition in definitions {
                for statement in ViewSQL.createTable(definition, dialect: .postgres) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
        }
    }

    public func apply(_ changes: [ViewChange], through revision: Int64, definitions: [String: ViewDefinition]) async throws {
        try await client.withTransaction(logger: logger) { connection in
            for change in changes {
                guard let (sql, values) = ViewSQL.statement(for: change, definitions: definitions, dialect: .postgres) else { continue }
                try await connection.query(PostgresQuery(unsafeSQL: sql, binds: Self.bindings(values)), logger: logger)
            }
            var binds = PostgresBindings()
            binds.append(revision)
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO view_state (name, value) VALUES ('revision', $1) \
                        ON CONFLICT (name) DO UPDATE SET value = GREATEST(view_state.value, excluded.value)
                        """, binds: binds), logger: logger)
        }
    }

    public func appliedRevision() async throws -> Int64 {
        let rows = try await client.query("SELECT value FROM view_state WHERE name = 'revision'", logger: logger)
        for try await value in rows.decode(Int64.self) { return value }
        return 0
    }

    public func query(_ query: ViewQuery, definition: ViewDefinition) async throws -> ViewPage {
        let (whereSQL, values) = ViewSQL.whereClause(query, dialect: .postgres)
        let binds = try Self.bindings(values)
        var total = 0
        for try await count in try await client.query(
            PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(definition.table) \(whereSQL)", binds: binds), logger: logger
        ).decode(Int64.self) {
            total = Int(count)
        }
        let select = (["id", "rev", "json"] + definition.columns.map(\.name)).joined(separator: ", ")
        let sql = "SELECT \(select) FROM \(definition.table) \(whereSQL) \(ViewSQL.orderAndPage(query, dialect: .postgres))"
        var rows: [ViewPage.Row] = []
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
            let cells = row.makeRandomAccess()
            var columns: [String: ViewValue] = [:]
            for (index, column) in definition.columns.enumerated() {
                let cell = cells[index + 3]
                switch column.type {
                case .text: columns[column.name] = try cell.decode(String?.self).map(ViewValue.text) ?? .null
                case .integer: columns[column.name] = try cell.decode(Int64?.self).map(ViewValue.integer) ?? .null
                case .real: columns[column.name] = try cell.decode(Double?.self).map(ViewValue.real) ?? .null
                }
            }
            rows.append(ViewPage.Row(
                id: try cells[0].decode(String.self), revision: try cells[1].decode(Int64.self), columns: columns,
                json: try cells[2].decode(String.self)))
        }
        return ViewPage(rows: rows, total: total, revision: try await appliedRevision())
    }

    public func reset(_ definitions: [ViewDefinition]) async throws {
        try await client.withTransaction(logger: logger) { connection in
            for definition in definitions {
                try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(definition.table)"), logger: logger)
            }
            try await connection.query("DELETE FROM view_state", logger: logger)
        }
        try await prepare(definitions)
    }

    public func close() async {
        runner.cancel()
    }

    static func bindings(_ values: [ViewValue]) throws -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values {
            switch value {
            case .text(let text): binds.append(text)
            case .integer(let integer): binds.append(integer)
            case .real(let real): binds.append(real)
            case .null: binds.appendNull()
            }
        }
        return binds
    }
}
