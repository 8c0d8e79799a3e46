import CSQLite
public import Foundation

/// An error from SQLite, with its result code and message.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var description: String { "SQLite error \(code): \(message)" }
}

/// One SQLite connection. Not thread-safe by design: each is owned by one serial queue (`SQLiteWorker`).
public final class SQLiteConnection {
    let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    public init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: "\(path): \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements with no parameters and no results.
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "error"
            sqlite3_free(message)
            throw SQLiteError(code: rc, message: text)
        }
    }

    /// Runs a cached prepared statement with `bindings`, calling `row` for each result row.
    public func query(_ sql: String, _ bindings: [SQLiteValue] = [], row: (SQLiteRow) throws -> Void = { _ in }) throws {
        let statement = try prepared(sql)
        defer { sqlite3_reset(statement); sqlite3_clear_bindings(statement) }
        for (index, value) in bindings.enumerated() {
            try check(value.bind(to: statement, at: Int32(index + 1)))
        }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw error(rc) }
            try row(SQLiteRow(statement: statement))
        }
    }

    /// Runs a statement and returns its rows read by `read`.
    public func rows<T>(_ sql: String, _ bindings: [SQLiteValue] = [], _ read: (SQLiteRow) throws -> T) throws -> [T] {
        var result: [T] = []
        try query(sql, bindings) { result.append(try read($0)) }
        return result
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Resets every cached statement, so none holds the database after a failed transaction.
    public func resetStatements() {
        for statement in statements.values { sqlite3_reset(statement) }
    }

    /// The cached prepared statement for `sql`, for a caller that keeps it and runs it directly.
    func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        SQLiteStatement(handle: try prepared(sql), connection: self)
    }

    private func prepared(_ sql: String) throws(SQLiteError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc) }
        statements[sql] = statement
        return statement
    }

    private func check(_ rc: Int32) throws(SQLiteError) {
        guard rc == SQLITE_OK else { throw error(rc) }
    }

    fileprivate func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// The linked SQLite library's version.
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}

/// A prepared statement its owner keeps and runs with direct bindings, for the hottest paths: no lookup
/// by its SQL text and no array of values per run. Used on its connection's queue only, like the
/// connection; `resetStatements` resets it too.
struct SQLiteStatement {
    let handle: OpaquePointer
    let connection: SQLiteConnection

    func bind(_ index: Int32, _ value: Int64) throws(SQLiteError) { try check(sqlite3_bind_int64(handle, index, value)) }
    func bind(_ index: Int32, _ value: String) throws(SQLiteError) {
        try check(sqlite3_bind_text(handle, index, value, -1, SQLITE_TRANSIENT))
    }
    func bind(_ index: Int32, _ value: Data) throws(SQLiteError) { try check(SQLiteValue.blob(value).bind(to: handle, at: index)) }
    func bind(_ index: Int32, _ value: Int64?) throws(SQLiteError) {
        try check(value.map { sqlite3_bind_int64(handle, index, $0) } ?? sqlite3_bind_null(handle, index))
    }

    private func check(_ rc: Int32) throws(SQLiteError) {
        guard rc == SQLITE_OK else { throw connection.error(rc) }
    }

    /// Steps through the bound statement, returning what `read` makes of its first row (nil if none),
    /// then resets it. Every parameter must be bound before each run: bindings are not cleared.
    @discardableResult
    func run<T>(_ read: (SQLiteRow) -> T) throws(SQLiteError) -> T? {
        defer { sqlite3_reset(handle) }
        var first: T?
        while true {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { return first }
            guard rc == SQLITE_ROW else { throw connection.error(rc) }
            if first == nil { first = read(SQLiteRow(statement: handle)) }
        }
    }

    func run() throws(SQLiteError) { try run { _ in () } }
}

/// A value bound to a statement parameter.
public enum SQLiteValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case blob(Data)
    case real(Double)
    case null

    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .integer(let value): return sqlite3_bind_int64(statement, index, value)
        case .real(let value): return sqlite3_bind_double(statement, index, value)
        case .null: return sqlite3_bind_null(statement, index)
        case .text(let value): return sqlite3_bind_text(statement, index, value, -1, SQLITE_TRANSIENT)
        case .blob(let value):
            return value.withUnsafeBytes { bytes in
                sqlite3_bind_blob(statement, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), SQLITE_TRANSIENT)
            }
        }
    }
}

/// The current row of a stepping statement; valid only inside the row callback.
public struct SQLiteRow {
    let statement: OpaquePointer

    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    public func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(statement, column) else { return "" }
        return String(cString: pointer)
    }
    public func double(_ column: Int32) -> Double { sqlite3_column_double(statement, column) }
    /// The blob in `column`, read in place.
    func withBlob<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let count = Int(sqlite3_column_bytes(statement, column))
        return try body(UnsafeRawBufferPointer(start: sqlite3_column_blob(statement, column), count: count))
    }
    public func blob(_ column: Int32) -> Data {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer = sqlite3_column_blob(statement, column) else { return Data() }
        return Data(bytes: pointer, count: count)
    }
}

/// SQLite's "copy this buffer now" destructor, which the C macro spells as a cast of -1.
private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
