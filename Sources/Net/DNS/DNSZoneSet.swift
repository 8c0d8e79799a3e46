/// The zones the responder is authoritative for, found by the closest enclosing apex of a name.
public struct DNSZoneSet: Sendable, Hashable {
    /// Lower-cased apex → zone.
    public private(set) var zones: [DNSName: DNSZone] = [:]

    public init(_ zones: [DNSZone] = []) {
        for zone in zones { self.zones[zone.origin] = zone }
    }

    public subscript(origin: DNSName) -> DNSZone? {
        get { zones[origin.lowercased()] }
        set { zones[origin.lowercased()] = newValue }
    }

    /// The zone whose apex is `name` (lower-cased) or its closest ancestor. A scan comparing wire bytes in
    /// place: an appliance has a handful of zones, and this runs for every query.
    func zone(containing name: DNSName) -> DNSZone? {
        var best: DNSZone?
        for zone in zones.values where name.hasSuffix(zone.origin) {
            if best.map({ $0.origin.wire.count < zone.origin.wire.count }) ?? true { best = zone }
        }
        return best
    }

    public var isEmpty: Bool { zones.isEmpty }
}
