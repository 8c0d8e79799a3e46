/// A change to apply to a view, derived from one KV event.
public enum ViewChange: Sendable, Hashable {
    case upsert(kind: String, id: String, revision: Int64, columns: [ViewValue], json: String)
    case delete(kind: String, id: String, revision: Int64)
}

/// Where the SQL views live (SQLite beside the KV store, or PostgreSQL).
///
/// Views are a projection of the KV store: `apply` is idempotent by revision (a row only moves forward,
/// deletes leave a tombstone with their revision), and the revision applied through is saved in the same
/// SQL transaction as the rows, so a crash between the two cannot happen and replay is harmless.
public protocol ViewStore: Sendable {
    var backendName: String { get }

    /// Creates missing tables and indexes for `definitions`.
    func prepare(_ definitions: [ViewDefinition]) async throws

    /// Applies `changes` and records that the views reflect the store through `revision`.
    func apply(_ changes: [ViewChange], through revision: Int64, definitions: [String: ViewDefinition]) async throws

    /// The store revision the views reflect.
    func appliedRevision() async throws -> Int64

    func query(_ query: ViewQuery, definition: ViewDefinition) async throws -> ViewPage

    /// Drops every row and the applied revision, for a rebuild from the KV store.
    func reset(_ definitions: [ViewDefinition]) async throws

    func close() async
}
