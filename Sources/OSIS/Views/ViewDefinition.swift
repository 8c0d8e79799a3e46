import Foundation

/// A column of an object kind's SQL view, filled from one top-level JSON field of the object.
public struct ViewColumn: Sendable, Hashable {
    public enum ColumnType: String, Sendable, Hashable {
        case text, integer, real
    }

    public var name: String
    public var type: ColumnType
    /// The object's JSON field the column is read from (defaults to `name`).
    public var field: String
    /// Whether the column gets an index. Off for free text that is shown, not looked up: every index is
    /// one more B-tree page written per row.
    public var indexed: Bool
    /// For a column that is empty in most rows (the run of a DHCP trace event, a machine's host name
    /// before one is set): its index holds only the rows that have a value, so the others cost no index
    /// entry. Filtering on a value still uses it; sorting by the column does not.
    public var sparse: Bool

    public init(_ name: String, _ type: ColumnType = .text, field: String? = nil, indexed: Bool = true, sparse: Bool = false) {
        self.name = name
        self.type = type
        self.field = field ?? name
        self.indexed = indexed
        self.sparse = sparse
    }

    /// The field's value converted to the column type; null for absent or mismatched fields.
    func value(from field: JSONField) -> ViewValue {
        switch (type, field) {
        case (_, .null): return .null
        case (.text, .string(let text)), (.text, .number(let text)), (.text, .composite(let text)): return .text(text)
        case (.text, .bool(let flag)): return .text(flag ? "true" : "false")
        case (.integer, .number(let text)): return (Int64(text) ?? Double(text).flatMap { Int64(exactly: $0.rounded(.towardZero)) }).map(ViewValue.integer) ?? .null
        case (.integer, .bool(let flag)): return .integer(flag ? 1 : 0)
        case (.real, .number(let text)): return Double(text).map(ViewValue.real) ?? .null
        case (.real, .bool(let flag)): return .real(flag ? 1 : 0)
        case (.integer, _), (.real, _): return .null
        }
    }
}

/// How one object kind is projected into SQL: a table named after the kind with `id`, `rev`, `deleted`,
/// the declared columns, and the object's JSON.
public struct ViewDefinition: Sendable, Hashable {
    public var kind: String
    public var columns: [ViewColumn]

    public init(kind: String, columns: [ViewColumn]) {
        self.kind = kind
        self.columns = columns
    }

    /// The SQL table name; kinds are restricted to identifier characters so this is safe to interpolate.
    public var table: String { "view_" + kind }

    public func column(named name: String) -> ViewColumn? { columns.first { $0.name == name } }

    /// Every name a query may filter or sort on.
    public var queryableColumns: [String] { ["id", "rev"] + columns.map(\.name) }

    public static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f }
    }
}

/// A value in a view row or a query filter.
public enum ViewValue: Sendable, Hashable, CustomStringConvertible {
    case text(String)
    case integer(Int64)
    case real(Double)
    case null

    public var description: String {
        switch self {
        case .text(let value): return value
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .null: return "null"
        }
    }
}
