public import Foundation

/// One key with its value and revision bookkeeping, as etcd's `mvccpb.KeyValue`.
public struct KeyValue: Sendable, Hashable {
    public var key: String
    public var value: Data
    /// The revision of the write that created the key (since it last did not exist).
    public var createRevision: Int64
    /// The revision of the write that last changed the key.
    public var modRevision: Int64
    /// How many times the key was written since it was created.
    public var version: Int64
    public var lease: KVLease.ID?

    public init(key: String, value: Data, createRevision: Int64, modRevision: Int64, version: Int64, lease: KVLease.ID? = nil) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }
}

/// One page of a prefix range.
public struct KVPage: Sendable, Hashable {
    public var items: [KeyValue]
    /// True when more keys follow the last one returned.
    public var more: Bool
    /// The store revision the page was read at.
    public var revision: Int64

    public init(items: [KeyValue], more: Bool, revision: Int64) {
        self.items = items
        self.more = more
        self.revision = revision
    }
}

/// A condition of a transaction, evaluated against the state just before it.
public enum KVCompare: Sendable, Hashable {
    /// The key's mod revision equals the value; 0 means "the key does not exist".
    case modRevision(String, equals: Int64)
    /// The key's value equals the bytes given (false when the key does not exist).
    case value(String, equals: Data)

    public var key: String {
        switch self {
        case .modRevision(let key, _), .value(let key, _): return key
        }
    }
}

/// A write inside a transaction.
public enum KVOperation: Sendable, Hashable {
    case put(String, Data, lease: KVLease.ID?)
    case delete(String)
    case deletePrefix(String)
}

/// If every comparison holds apply `then`, otherwise apply `otherwise`: one atomic step, one revision.
public struct KVTransaction: Sendable, Hashable {
    public var compares: [KVCompare]
    public var then: [KVOperation]
    public var otherwise: [KVOperation]

    public init(if compares: [KVCompare] = [], then: [KVOperation], else otherwise: [KVOperation] = []) {
        self.compares = compares
        self.then = then
        self.otherwise = otherwise
    }
}

public struct KVTransactionResult: Sendable, Hashable {
    /// Whether the comparisons held (and `then` was applied).
    public var succeeded: Bool
    /// The store revision after the transaction: new if it wrote anything, else the current one.
    public var revision: Int64

    public init(succeeded: Bool, revision: Int64) {
        self.succeeded = succeeded
        self.revision = revision
    }
}

/// A change seen by a watch.
public struct KVEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case put, delete }
    public var kind: Kind
    /// For a put, the key as written; for a delete, the key with empty value and the delete's revision.
    public var keyValue: KeyValue

    public init(kind: Kind, keyValue: KeyValue) {
        self.kind = kind
        self.keyValue = keyValue
    }

    public var revision: Int64 { keyValue.modRevision }
}

/// A lease: keys attached to it vanish when it expires or is revoked.
public struct KVLease: Sendable, Hashable {
    public typealias ID = Int64
    public var id: ID
    public var ttl: Duration

    public init(id: ID, ttl: Duration) {
        self.id = id
        self.ttl = ttl
    }
}

/// What a KV operation can fail with.
public enum KVError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The backend could not be reached or answered with an error.
    case unavailable(String)
    /// The watch asked for history older than what the store kept.
    case compacted(requested: Int64, oldest: Int64)
    case leaseNotFound(KVLease.ID)
    /// A key or request the backend refuses (too large, empty key).
    case invalid(String)
    case closed

    public var description: String {
        switch self {
        case .unavailable(let why): return "store unavailable: \(why)"
        case .compacted(let requested, let oldest): return "history before revision \(oldest) was compacted (asked from \(requested))"
        case .leaseNotFound(let id): return "lease \(id) not found"
        case .invalid(let why): return "invalid request: \(why)"
        case .closed: return "store is closed"
        }
    }
}

/// The stream of a watch. Iterate it; cancelling the iterating task ends the watch.
public typealias KVWatch = AsyncThrowingStream<[KVEvent], any Error>
