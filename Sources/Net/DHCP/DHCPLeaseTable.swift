public import Foundation

/// The leases of one network in memory: by address, and by client (hardware address, or client
/// identifier where the network says so). The durable copy is in the store; this is rebuilt from it
/// on start (`load`).
public struct DHCPLeaseTable: Sendable {
    /// Who holds a lease: one key per machine.
    public enum ClientKey: Sendable, Hashable {
        case hardware(HardwareAddress)
        case clientIdentifier([UInt8])
    }

    public let network: DHCPNetwork
    private(set) var byAddress: [IPv4Address: DHCPLease] = [:]
    private var byClient: [ClientKey: IPv4Address] = [:]
    /// Where the next pool scan starts, so allocation is amortised O(1) rather than a scan from the start.
    private var cursor: UInt32 = 0
    /// Addresses of reservations: never handed to anyone else.
    private let reserved: [IPv4Address: HardwareAddress]
    /// Set when a scan found the pool full: the earliest moment a held address can expire. Until then,
    /// unless a lease is let go meanwhile, allocation fails at once: a flood of new MACs against a full
    /// pool must not cost a scan of the whole pool per DISCOVER.
    private var fullUntil: Date?
    /// Scans of the whole pool that found nothing free (for tests of the fast path above).
    private(set) var fullScans = 0

    public init(network: DHCPNetwork) {
        self.network = network
        reserved = Dictionary(network.reservations.map { ($0.address, $0.hardwareAddress) }, uniquingKeysWith: { first, _ in first })
        cursor = network.pool?.first.value ?? 0
    }

    public func key(_ hardwareAddress: HardwareAddress, clientIdentifier: [UInt8]?) -> ClientKey {
        if network.keyByClientIdentifier, let clientIdentifier { return .clientIdentifier(clientIdentifier) }
        return .hardware(hardwareAddress)
    }

    public func key(of lease: DHCPLease) -> ClientKey { key(lease.hardwareAddress, clientIdentifier: lease.clientIdentifier) }

    public var count: Int { byAddress.count }

    public func lease(at address: IPv4Address) -> DHCPLease? { byAddress[address] }

    /// The client's lease, whatever its state.
    public func lease(for client: ClientKey) -> DHCPLease? { byClient[client].flatMap { byAddress[$0] } }

    /// Whether `address` may be given to `client` now: not the server's or router's, not reserved for
    /// someone else, and not held (offered, bound or quarantined) by another client.
    public func isAvailable(_ address: IPv4Address, for client: ClientKey, hardwareAddress: HardwareAddress, now: Date) -> Bool {
        guard network.subnet.contains(address), address != network.subnet.network, address != network.subnet.broadcast,
            address != network.serverAddress, address != network.router
        else { return false }
        if let owner = reserved[address], owner != hardwareAddress { return false }
        guard let lease = byAddress[address] else { return true }
        if key(of: lease) == client { return lease.state != .declined || lease.expires <= now }
        switch lease.state {
        case .released, .expired: return true
        case .offered, .bound, .declined: return lease.expires <= now
        }
    }

    /// A free pool address, scanning from the cursor once round the pool.
    public mutating func allocate(for client: ClientKey, hardwareAddress: HardwareAddress, now: Date) -> IPv4Address? {
        guard let pool = network.pool else { return nil }
        if let fullUntil, now < fullUntil { return nil }
        let size = UInt32(pool.count)
        var earliestExpiry = Date.distantFuture
        for step in 0..<size {
            let candidate = IPv4Address(pool.first.value + (cursor &- pool.first.value &+ step) % size)
            if isAvailable(candidate, for: client, hardwareAddress: hardwareAddress, now: now) {
                cursor = candidate.value == pool.last.value ? pool.first.value : candidate.value + 1
                return candidate
            }
            if let held = byAddress[candidate] { earliestExpiry = min(earliestExpiry, held.expires) }
        }
        fullUntil = earliestExpiry
        fullScans += 1
        return nil
    }

    /// Records `lease`: the client's previous address (if another) is let go, so a machine never holds two.
    public mutating func record(_ lease: DHCPLease) {
        let client = key(of: lease)
        if let previous = byClient[client], previous != lease.address, byAddress[previous].map(key(of:)) == client {
            byAddress[previous] = nil
            fullUntil = nil
        }
        if lease.state == .released || lease.state == .expired { fullUntil = nil }
        if let displaced = byAddress[lease.address], key(of: displaced) != client, byClient[key(of: displaced)] == lease.address {
            byClient[key(of: displaced)] = nil
        }
        byAddress[lease.address] = lease
        byClient[client] = lease.address
    }

    /// Forgets an offer the client turned down (it chose another server).
    public mutating func withdrawOffer(for client: ClientKey) {
        guard let address = byClient[client], let lease = byAddress[address], lease.state == .offered else { return }
        byAddress[address] = nil
        byClient[client] = nil
        fullUntil = nil
    }

    /// A declined address is quarantined: held by nobody's key until `until` (RFC 2131 §4.3.3).
    public mutating func quarantine(_ address: IPv4Address, hardwareAddress: HardwareAddress, until: Date) -> DHCPLease {
        if let lease = byAddress[address] { byClient[key(of: lease)] = nil }
        let lease = DHCPLease(network: network.name, address: address, hardwareAddress: hardwareAddress, state: .declined, expires: until)
        byAddress[address] = lease
        return lease
    }

    /// Bound leases past their expiry become expired; offers past theirs are forgotten. Returns the
    /// bound leases that expired, for the store.
    public mutating func reclaim(now: Date) -> [DHCPLease] {
        var expired: [DHCPLease] = []
        for (address, lease) in byAddress where lease.expires <= now {
            switch lease.state {
            case .bound, .declined:
                var changed = lease
                changed.state = .expired
                byAddress[address] = changed
                expired.append(changed)
            case .offered:
                byAddress[address] = nil
                if byClient[key(of: lease)] == address { byClient[key(of: lease)] = nil }
            case .released, .expired: break
            }
        }
        return expired
    }

    /// Takes a lease from the store at start-up; leases of other networks or outside the subnet are ignored.
    public mutating func load(_ lease: DHCPLease) {
        guard lease.network == network.name, network.subnet.contains(lease.address) else { return }
        if lease.state == .declined {
            byAddress[lease.address] = lease
        } else {
            record(lease)
        }
    }
}
