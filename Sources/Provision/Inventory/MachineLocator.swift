import Foundation
public import OSIS

/// Finds the machine behind a client address, for responders that only see an IP: the machine whose
/// recorded `address` it is, else the holder of the newest lease on it that is not over.
///
/// Reads the views, which follow the store a moment behind: a machine enrolled a millisecond ago may not
/// be found yet. That is good enough to attribute a transfer or render a boot config, and costs one
/// indexed query instead of a scan of every machine.
public struct MachineLocator: Sendable {
    public let index: ViewIndex

    public init(index: ViewIndex) { self.index = index }

    /// The MAC of the machine using `address`, or nil when none is known.
    public func mac(forAddress address: String) async -> String? {
        let machines = ViewQuery(kind: Machine.kind, filters: [.init("address", .equal, .text(address))], limit: 1)
        if let mac = try? await index.query(machines).rows.first?.id { return mac }
        let leases = ViewQuery(
            kind: Lease.kind,
            filters: [.init("address", .equal, .text(address)), .init("state", .notEqual, .text(Lease.State.released.rawValue))],
            sortBy: "expires", descending: true, limit: 5)
        guard let rows = try? await index.query(leases).rows else { return nil }
        // Expired and declined leases say who had the address, not who has it.
        let live: Set<String> = [Lease.State.bound.rawValue, Lease.State.offered.rawValue]
        for row in rows {
            guard case .text(let state)? = row.columns["state"], live.contains(state),
                case .text(let mac)? = row.columns["mac"]
            else { continue }
            return mac
        }
        return nil
    }
}
