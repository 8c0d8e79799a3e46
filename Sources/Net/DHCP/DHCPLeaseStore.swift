import Synchronization

/// Where leases are made durable: the appliance keeps them in OSIS. `persist` returns only once the
/// leases are durable, because the ACK that goes with them is sent right after.
public protocol DHCPLeaseStore: Sendable {
    func loadLeases() async throws -> [DHCPLease]
    func persist(_ leases: [DHCPLease]) async throws
}

/// Leases in memory: for tests, and for a responder that need not survive a restart.
public final class MemoryDHCPLeaseStore: DHCPLeaseStore {
    private let leases = Mutex<[String: DHCPLease]>([:])

    public init(_ initial: [DHCPLease] = []) {
        leases.withLock { stored in for lease in initial { stored["\(lease.network)-\(lease.address)"] = lease } }
    }

    public func loadLeases() async throws -> [DHCPLease] { leases.withLock { Array($0.values) } }

    public func persist(_ changed: [DHCPLease]) async throws {
        leases.withLock { stored in for lease in changed { stored["\(lease.network)-\(lease.address)"] = lease } }
    }

    public var all: [DHCPLease] { leases.withLock { Array($0.values) } }
}
