public import Foundation

/// A consistent, revisioned key/value store: the ground truth of all appliance state.
///
/// The model is etcd v3's, so the etcd backend is a thin translation and the embedded SQLite backend
/// behaves the same way: one store-wide revision counter that every committed write advances; each key
/// remembers the revision that created it and the one that last changed it; compare-and-set and
/// multi-key transactions are all or nothing; a watch replays every change after a revision exactly once.
public protocol KVStore: Sendable {
    /// A short name for logs and `provision osis status` ("sqlite", "etcd").
    var backendName: String { get }

    func get(_ key: String) async throws(KVError) -> KeyValue?

    /// Keys starting with `prefix` in key order, starting after `after` (exclusive), at most `limit`.
    func range(prefix: String, after: String?, limit: Int) async throws(KVError) -> KVPage

    /// Applies `then` if every comparison holds, else `otherwise`, atomically, as one revision.
    func transaction(_ transaction: KVTransaction) async throws(KVError) -> KVTransactionResult

    /// Every change under `prefix` with a revision greater than `revision`, then live changes, in revision
    /// order, none lost or repeated. Fails with `.compacted` if history before `revision` was discarded.
    func watch(prefix: String, after revision: Int64) -> KVWatch

    /// A lease that ends after `ttl` unless kept alive; keys put with it are deleted when it ends.
    func grantLease(ttl: Duration) async throws(KVError) -> KVLease
    func keepAlive(_ lease: KVLease.ID) async throws(KVError) -> KVLease
    func revokeLease(_ lease: KVLease.ID) async throws(KVError)

    /// The store's current revision.
    func currentRevision() async throws(KVError) -> Int64

    /// Cheap check that the store answers, for `/healthz`.
    func ping() async throws(KVError)

    func close() async
}

extension KVStore {
    /// Writes `value` unconditionally.
    @discardableResult
    public func put(_ key: String, _ value: Data, lease: KVLease.ID? = nil) async throws(KVError) -> Int64 {
        try await transaction(KVTransaction(then: [.put(key, value, lease: lease)])).revision
    }

    /// Deletes `key`; returns the revision of the delete.
    @discardableResult
    public func delete(_ key: String) async throws(KVError) -> Int64 {
        try await transaction(KVTransaction(then: [.delete(key)])).revision
    }

    /// Writes `value` only if `key` was last modified at `revision` (0: only if it does not exist).
    /// Returns the new revision, or nil when the comparison failed.
    public func compareAndSet(_ key: String, _ value: Data, ifModRevision revision: Int64) async throws(KVError) -> Int64? {
        let result = try await transaction(
            KVTransaction(if: [.modRevision(key, equals: revision)], then: [.put(key, value, lease: nil)]))
        return result.succeeded ? result.revision : nil
    }

    /// Every key under `prefix`, paging through the store.
    public func all(prefix: String, pageSize: Int = 1000) async throws(KVError) -> [KeyValue] {
        var result: [KeyValue] = []
        var after: String?
        while true {
            let page = try await range(prefix: prefix, after: after, limit: pageSize)
            result += page.items
            guard page.more, let last = page.items.last else { return result }
            after = last.key
        }
    }
}
