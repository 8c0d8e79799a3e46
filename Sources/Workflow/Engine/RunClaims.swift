import Foundation
public import Logging
public import OSIS
import Synchronization

/// Which appliance node drives which run, when several share one store (etcd).
///
/// A node holds a KV lease that it keeps alive; each run it drives has a claim key attached to that
/// lease. When a node dies its lease expires, its claims vanish with it, and the other nodes, which
/// watch the claims, take its runs over. A node that restarts under the same name takes its own
/// claims back at once. On a single node the same mechanism costs nothing extra: claims ride in the
/// run's own commits.
public final class RunClaims: Sendable {
    public static let prefix = "/osis/claims/run/"
    public let node: String
    let kv: any KVStore
    let ttl: Duration
    let logger: Logger
    private let lease = Mutex<KVLease.ID?>(nil)
    /// The keep-alive and the watch; nil once stopped, so that nothing starts again afterwards.
    private let tasks = Mutex<[Task<Void, Never>]?>([])

    public init(kv: any KVStore, node: String, ttl: Duration = .seconds(10), logger: Logger) {
        self.kv = kv
        self.node = node
        self.ttl = ttl
        self.logger = logger
    }

    static func key(_ runID: String) -> String { prefix + runID }

    /// This node's lease, granted (and kept alive) on first use. Once stopped, the node takes no lease:
    /// a lease granted then would be kept alive by nobody's decision, and its claims would hold runs
    /// that no node drives.
    func currentLease() async throws -> KVLease.ID {
        if let id = lease.withLock({ $0 }) { return id }
        guard tasks.withLock({ $0 != nil }) else { throw CancellationError() }
        let granted = try await kv.grantLease(ttl: ttl)
        let winner = lease.withLock { current -> KVLease.ID in
            if let current { return current }
            current = granted.id
            return granted.id
        }
        if winner != granted.id {
            try? await kv.revokeLease(granted.id)
        } else if !startKeepAlive(granted.id) {
            // Stopped while the lease was being granted.
            forget(granted.id)
            try? await kv.revokeLease(granted.id)
            throw CancellationError()
        }
        return winner
    }

    /// The write that claims `runID` for this node inside a run's creation commit: it fails the commit
    /// if another node holds the claim.
    func claimWrite(_ runID: String) async throws -> ObjectWrite {
        let lease = try await currentLease()
        return .key(.put(Self.key(runID), Data(node.utf8), lease: lease), if: .modRevision(Self.key(runID), equals: 0))
    }

    /// The compare that fences the commits of a run this node drives: they apply only while the claim
    /// is this node's, so a node that lost it (its lease lapsed, another node took the run) changes
    /// nothing more.
    func fence(_ runID: String) -> KVCompare {
        .value(Self.key(runID), equals: Data(node.utf8))
    }

    /// The write that gives up `runID`, in the commit that records its end.
    func releaseWrite(_ runID: String) -> ObjectWrite {
        .key(.delete(Self.key(runID)))
    }

    /// Claims an existing run: true if it was free or already this node's (then re-attached to this
    /// node's current lease), false if another node holds it.
    func claim(_ runID: String) async throws -> Bool {
        do {
            return try await claim(runID, lease: try await currentLease())
        } catch KVError.leaseNotFound(let dead) {
            // The lease lapsed before its keep-alive noticed (this is how a stalled node finds out when it
            // takes a run back): claim under a new one.
            forget(dead)
            return try await claim(runID, lease: try await currentLease())
        }
    }

    private func claim(_ runID: String, lease: KVLease.ID) async throws -> Bool {
        let key = Self.key(runID)
        let free = try await kv.transaction(KVTransaction(
            if: [.modRevision(key, equals: 0)], then: [.put(key, Data(node.utf8), lease: lease)]))
        if free.succeeded { return true }
        let mine = try await kv.transaction(KVTransaction(
            if: [.value(key, equals: Data(node.utf8))], then: [.put(key, Data(node.utf8), lease: lease)]))
        return mine.succeeded
    }

    /// Calls `orphaned` with each run whose claim disappears without the run ending (its node died).
    func watchOrphans(_ orphaned: @escaping @Sendable (String) async -> Void) async throws {
        let start = try await kv.currentRevision()
        let task = Task { [kv, logger] in
            do {
                for try await batch in kv.watch(prefix: Self.prefix, after: start) {
                    for event in batch where event.kind == .delete {
                        await orphaned(String(event.keyValue.key.dropFirst(Self.prefix.count)))
                    }
                }
            } catch {
                if !(error is CancellationError) { logger.error("workflow: claim watch ended: \(error)") }
            }
        }
        guard keep(task) else { throw CancellationError() }
    }

    /// Ends the keep-alive and the watch. The lease is left to expire, not revoked: a node restarted
    /// under the same name takes its runs back at once, and other nodes take them once it expires.
    func stop() {
        let all = tasks.withLock { tasks in
            defer { tasks = nil }
            return tasks ?? []
        }
        for task in all { task.cancel() }
    }

    /// Keeps `task` to cancel on `stop`; cancels it instead, and returns false, if stopped already.
    private func keep(_ task: Task<Void, Never>) -> Bool {
        let kept = tasks.withLock { tasks in
            guard tasks != nil else { return false }
            tasks?.append(task)
            return true
        }
        if !kept { task.cancel() }
        return kept
    }

    /// Drops `id` as this node's lease, so the next claim is made under a new one.
    private func forget(_ id: KVLease.ID) {
        lease.withLock { current in if current == id { current = nil } }
    }

    private func startKeepAlive(_ id: KVLease.ID) -> Bool {
        // High priority: with thousands of runs busy in this process, a keep-alive queued behind their
        // work at the default priority was seen to miss a 10 s TTL.
        let task = Task(priority: .high) { [weak self, kv, ttl, logger, node] in
            while !Task.isCancelled {
                try? await Task.sleep(for: ttl / 3)
                guard !Task.isCancelled else { return }
                do {
                    _ = try await kv.keepAlive(id)
                } catch {
                    // A stall longer than the TTL (a paused VM, a swapped-out process) lets the lease
                    // expire. Forget it, so the next claim is made under a new lease instead of failing
                    // for good on the dead one.
                    self?.forget(id)
                    logger.critical("workflow: node \(node) lost its lease (\(error)); its runs may move to other nodes")
                    return
                }
            }
        }
        return keep(task)
    }
}
