
/// A typed object kept in OSIS: a Codable value with a kind, an id and a schema version.
///
/// Objects are stored as JSON under `/osis/objects/<kind>/<id>`, wrapped in an envelope that records the
/// schema version they were written with, so a newer appliance can read (and migrate) what an older one wrote.
public protocol OSISObject: Codable, Sendable {
    /// The object kind, also the view table's name: lower-case letters, digits and underscores.
    static var kind: String { get }
    /// Bumped when the stored shape changes incompatibly.
    static var schemaVersion: Int { get }
    /// The columns of this kind's SQL view, for listing and filtering from the API.
    static var viewColumns: [ViewColumn] { get }
    /// Unique within the kind; printable ASCII without '/'.
    var id: String { get }
}

extension OSISObject {
    public static var schemaVersion: Int { 1 }
    public static var viewColumns: [ViewColumn] { [] }
    public static var view: ViewDefinition { ViewDefinition(kind: kind, columns: viewColumns) }
}

/// An object as read from the store, with the revision it was read at. Updating it succeeds only if
/// nobody changed it since.
public struct Stored<Object: OSISObject>: Sendable {
    public var object: Object
    /// The store revision of the object's last change: the optimistic-concurrency token.
    public var revision: Int64
    /// The store revision that created the object.
    public var createRevision: Int64

    public init(object: Object, revision: Int64, createRevision: Int64) {
        self.object = object
        self.revision = revision
        self.createRevision = createRevision
    }
}

/// What an object operation can fail with.
public enum OSISError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The object changed since it was read (or exists already, for a create).
    case conflict(kind: String, id: String, expected: Int64, actual: Int64)
    case notFound(kind: String, id: String)
    /// The stored bytes do not decode as the kind (or come from a newer schema).
    case corrupt(kind: String, id: String, reason: String)
    case invalidID(String)
    case store(KVError)

    public var description: String {
        switch self {
        case .conflict(let kind, let id, let expected, let actual):
            return "conflict: \(kind) '\(id)' is at revision \(actual), not \(expected)"
        case .notFound(let kind, let id): return "\(kind) '\(id)' not found"
        case .corrupt(let kind, let id, let reason): return "\(kind) '\(id)' cannot be read: \(reason)"
        case .invalidID(let id): return "invalid object id '\(id)': use printable ASCII without '/'"
        case .store(let error): return "\(error)"
        }
    }
}
