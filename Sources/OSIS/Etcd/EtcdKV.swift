import Foundation
import Synchronization

/// The KV store on an etcd v3 cluster, through etcd's JSON gateway over HTTP/1.1.
///
/// Our model is etcd's, so each call is one gateway call: revisions, create/mod revisions, versions,
/// transactions and leases are etcd's own. Why the gateway and not gRPC: docs/PERFORMANCE.md, "etcd
/// transport". Several appliance nodes can share one cluster; leases expire by etcd's clock.
public final class EtcdKV: KVStore {
    public var backendName: String { "etcd" }
    /// The client URLs, in the order they are tried.
    public let endpoints: [String]

    let client: EtcdHTTPClient
    private let watches = Mutex<[UInt64: Task<Void, Never>]>([:])
    private let nextWatchID = Atomic<UInt64>(0)
    private let closed = Atomic<Bool>(false)

    /// A store on the etcd members at `endpoints` (`http://host:port`). Connects lazily: a member that is
    /// down shows as `KVError.unavailable` on the first call, not here.
    ///
    /// - Parameter connectionsPerEndpoint: keep-alive connections per member, opened as concurrency needs
    ///   them; calls beyond that wait. 32 because etcd batches the writes it has in flight into one raft
    ///   proposal and one fsync: 64 writers got about 2,300 puts/s through 8 connections, 3,600 through 32
    ///   and 4,300 through 64 (docs/PERFORMANCE.md).
    public init(endpoints: [String], connectionsPerEndpoint: Int = 32) throws(KVError) {
        guard !endpoints.isEmpty else { throw KVError.invalid("etcd needs at least one endpoint URL") }
        var parsed: [EtcdEndpoint] = []
        for url in endpoints { parsed.append(try EtcdEndpoint(parsing: url)) }
        self.endpoints = endpoints
        client = EtcdHTTPClient(endpoints: parsed, connectionsPerEndpoint: connectionsPerEndpoint)
    }

    public func get(_ key: String) async throws(KVError) -> KeyValue? {
        try checkOpen()
        let response = try await client.call(
            "/v3/kv/range", EtcdRangeRequest(key: EtcdBytes(key)), as: EtcdRangeResponse.self, idempotent: true)
        return response.kvs?.first?.keyValue
    }

    public func range(prefix: String, after: String?, limit: Int) async throws(KVError) -> KVPage {
        try checkOpen()
        let range = EtcdKeyRange.prefix(prefix, after: after)
        let request = EtcdRangeRequest(key: range.key, range_end: range.end, limit: EtcdInt64(Int64(max(1, limit))))
        let response = try await client.call("/v3/kv/range", request, as: EtcdRangeResponse.self, idempotent: true)
        return KVPage(
            items: (response.kvs ?? []).map(\.keyValue), more: response.more ?? false,
            revision: response.header?.storeRevision ?? 0)
    }

    public func transaction(_ transaction: KVTransaction) async throws(KVError) -> KVTransactionResult {
        try checkOpen()
        let call = try EtcdTransactionCall(transaction)
        let response = try await client.call(
            call.path, call.body, as: EtcdWriteResponse.self, idempotent: false, leases: transaction.leases)
        // A bare put or delete always "succeeds"; a txn says whether its comparisons held.
        let succeeded = call.path == EtcdTransactionCall.txnPath ? (response.succeeded ?? false) : true
        return KVTransactionResult(succeeded: succeeded, revision: response.header?.storeRevision ?? 0)
    }

    public func watch(prefix: String, after revision: Int64) -> KVWatch {
        let (stream, continuation) = KVWatch.makeStream(bufferingPolicy: .unbounded)
        guard !closed.load(ordering: .relaxed) else {
            continuation.finish(throwing: KVError.closed)
            return stream
        }
        let id = nextWatchID.add(1, ordering: .relaxed).newValue
        let watch = EtcdWatch(client: client, prefix: prefix, after: revision)
        // Started under the lock, so that a watch that ends at once cannot remove itself before it is added.
        let task = watches.withLock { watches in
            let task = Task { [weak self] in
                await watch.run(continuation)
                _ = self?.watches.withLock { $0.removeValue(forKey: id) }
            }
            watches[id] = task
            return task
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    public func grantLease(ttl: Duration) async throws(KVError) -> KVLease {
        try checkOpen()
        // etcd counts in whole seconds (and raises anything under its minimum, about 2 s, to it).
        let seconds = max(1, ttl.components.seconds + (ttl.components.attoseconds > 0 ? 1 : 0))
        let response = try await client.call(
            "/v3/lease/grant", EtcdLeaseGrantRequest(TTL: EtcdInt64(seconds)), as: EtcdLeaseResponse.self,
            idempotent: false)
        guard let id = response.ID?.value, id != 0, response.error?.isEmpty ?? true else {
            throw KVError.unavailable("etcd did not grant a lease: \(response.error ?? "no ID")")
        }
        return KVLease(id: id, ttl: .seconds(response.TTL?.value ?? seconds))
    }

    public func keepAlive(_ lease: KVLease.ID) async throws(KVError) -> KVLease {
        try checkOpen()
        // A one-message client stream: the gateway answers it with one `result` and ends the response.
        let message = try await client.call(
            "/v3/lease/keepalive", EtcdLeaseIDRequest(ID: EtcdInt64(lease)),
            as: EtcdStreamMessage<EtcdLeaseResponse>.self, idempotent: true, leases: [lease])
        if let status = message.error { throw KVError(status, at: "etcd /v3/lease/keepalive", leases: [lease]) }
        // etcd answers a lease it does not know (expired, revoked) with a TTL of 0, not an error.
        guard let ttl = message.result?.TTL?.value, ttl > 0 else { throw KVError.leaseNotFound(lease) }
        return KVLease(id: lease, ttl: .seconds(ttl))
    }

    public func revokeLease(_ lease: KVLease.ID) async throws(KVError) {
        try checkOpen()
        // etcd 3.4 serves this at /v3/lease/revoke and, for older clients, /v3/kv/lease/revoke.
        _ = try await client.call(
            "/v3/lease/revoke", EtcdLeaseIDRequest(ID: EtcdInt64(lease)), as: EtcdWriteResponse.self, idempotent: false,
            leases: [lease])
    }

    public func currentRevision() async throws(KVError) -> Int64 {
        try checkOpen()
        // A linearizable read of one key (etcd keys are never empty, so "\0" is the cheapest) carries the
        // store revision in its header; maintenance/status would answer from the member's own view.
        let request = EtcdRangeRequest(key: EtcdKeyRange.zero, count_only: true)
        let response = try await client.call("/v3/kv/range", request, as: EtcdRangeResponse.self, idempotent: true)
        return response.header?.storeRevision ?? 0
    }

    public func ping() async throws(KVError) {
        try checkOpen()
        _ = try await client.call(
            "/v3/maintenance/status", [String: String](), as: EtcdWriteResponse.self, idempotent: true)
    }

    /// Discards history at or below `revision`, as `SQLiteKV.compact(through:)`: watches can no longer start
    /// before it. Compacting to a revision already compacted is no error.
    public func compact(through revision: Int64) async throws(KVError) {
        try checkOpen()
        do {
            _ = try await client.call(
                "/v3/kv/compaction", EtcdCompactionRequest(revision: EtcdInt64(revision)), as: EtcdWriteResponse.self,
                idempotent: true)
        } catch KVError.unavailable(let why) where why.contains("required revision has been compacted") {
            return
        }
    }

    public func close() async {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        let running = watches.withLock { watches in
            defer { watches = [:] }
            return Array(watches.values)
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
        client.close()
    }

    private func checkOpen() throws(KVError) {
        if closed.load(ordering: .relaxed) { throw KVError.closed }
    }
}
