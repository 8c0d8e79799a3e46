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

    /// The zone whose apex is `name` (lower-cased) or its closest ancestor.
    func zone(containing name: DNSName) -> DNSZone? {
        guard !zones.isEmpty else { return nil }
        var candidate: DNSName? = name
        while let current = candidate {
            if let zone = zones[current] { return zone }
            candidate = current.parent
        }
        return nil
    }

    public var isEmpty: Bool { zones.isEmpty }
}
