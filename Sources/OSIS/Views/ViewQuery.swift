/// A query over one kind's view: filters, one sort key, a page. The REST layer turns query strings into it.
public struct ViewQuery: Sendable, Hashable {
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case equal = "eq", notEqual = "ne", less = "lt", lessOrEqual = "le", greater = "gt", greaterOrEqual = "ge"
        case prefix

        var sql: String {
            switch self {
            case .equal: return "="
            case .notEqual: return "<>"
            case .less: return "<"
            case .lessOrEqual: return "<="
            case .greater: return ">"
            case .greaterOrEqual: return ">="
            case .prefix: return "LIKE"
            }
        }
    }

    public struct Filter: Sendable, Hashable {
        public var column: String
        public var op: Operator
        public var value: ViewValue

        public init(_ column: String, _ op: Operator = .equal, _ value: ViewValue) {
            self.column = column
            self.op = op
            self.value = value
        }
    }

    public var kind: String
    public var filters: [Filter]
    public var sortBy: String
    public var descending: Bool
    public var limit: Int
    public var offset: Int

    public init(kind: String, filters: [Filter] = [], sortBy: String = "id", descending: Bool = false, limit: Int = 100, offset: Int = 0) {
        self.kind = kind
        self.filters = filters
        self.sortBy = sortBy
        self.descending = descending
        self.limit = limit
        self.offset = offset
    }
}

/// One page of a view query.
public struct ViewPage: Sendable, Hashable {
    public struct Row: Sendable, Hashable {
        public var id: String
        public var revision: Int64
        public var columns: [String: ViewValue]
        /// The object's JSON as stored.
        public var json: String

        public init(id: String, revision: Int64, columns: [String: ViewValue], json: String) {
            self.id = id
            self.revision = revision
            self.columns = columns
            self.json = json
        }
    }

    public var rows: [Row]
    /// Matching rows in all pages.
    public var total: Int
    /// The store revision the view reflected when queried.
    public var revision: Int64

    public init(rows: [Row], total: Int, revision: Int64) {
        self.rows = rows
        self.total = total
        self.revision = revision
    }
}

/// What a view query can fail with: always the caller's mistake, so the API answers 400.
public enum ViewQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownKind(String)
    case unknownColumn(kind: String, column: String, known: [String])
    case badLimit(Int)
    case backend(String)

    public var description: String {
        switch self {
        case .unknownKind(let kind): return "no view for kind '\(kind)'"
        case .unknownColumn(let kind, let column, let known):
            return "\(kind) has no column '\(column)' (columns: \(known.joined(separator: ", ")))"
        case .badLimit(let limit): return "limit \(limit) is out of range 1...1000"
        case .backend(let why): return "view query failed: \(why)"
        }
    }
}

extension ViewQuery {
    /// Checks the query against the definitions, so only known identifiers ever reach SQL.
    func validated(against definitions: [String: ViewDefinition]) throws(ViewQueryError) -> ViewDefinition {
        guard let definition = definitions[kind] else { throw .unknownKind(kind) }
        let known = definition.queryableColumns
        for column in filters.map(\.column) + [sortBy] where !known.contains(column) {
            throw .unknownColumn(kind: kind, column: column, known: known)
        }
        guard (1...1000).contains(limit), offset >= 0 else { throw .badLimit(limit) }
        return definition
    }
}
