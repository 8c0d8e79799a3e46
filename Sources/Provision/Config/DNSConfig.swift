public import Net

/// The DNS responder: the zones it is authoritative for, and what it does with other names.
public struct DNSConfig: Sendable, Hashable {
    public var listen: ListenAddress
    public var zones: [DNSZoneConfig]
    /// The forward zone unqualified machine and lease host names are put in; the first forward zone when
    /// not set.
    public var domain: String?
    /// Resolvers names outside every zone are forwarded to (host:port); none means REFUSED for them.
    public var upstreams: [ListenAddress]
    /// Secondaries allowed to transfer the zones (AXFR), by address.
    public var transfer: [String]
    /// Secondaries told of every change (NOTIFY, RFC 1996), as host:port.
    public var notify: [ListenAddress]
    /// TTL of the records generated from the inventory.
    public var ttl: UInt32

    public init(
        listen: ListenAddress = ListenAddress(host: "0.0.0.0", port: 53), zones: [DNSZoneConfig] = [], domain: String? = nil,
        upstreams: [ListenAddress] = [], transfer: [String] = [], notify: [ListenAddress] = [], ttl: UInt32 = 300
    ) {
        self.listen = listen
        self.zones = zones
        self.domain = domain
        self.upstreams = upstreams
        self.transfer = transfer
        self.notify = notify
        self.ttl = ttl
    }

    /// The zone machine names go in.
    public var hostZone: DNSZoneConfig? {
        if let domain, let name = DNSName(domain) { return zones.first { $0.name.lowercased() == name.lowercased() } }
        return zones.first { !$0.isReverse }
    }
}

/// One zone: its apex, SOA fields and static records (zone-file lines, names relative to the apex).
public struct DNSZoneConfig: Sendable, Hashable {
    public var name: DNSName
    /// The SOA MNAME; `ns.<zone>` by default.
    public var primary: DNSName
    /// The SOA RNAME (the mailbox, first dot for @); `hostmaster.<zone>` by default.
    public var hostmaster: DNSName
    public var records: [DNSResourceRecord]

    public init(name: DNSName, primary: DNSName? = nil, hostmaster: DNSName? = nil, records: [DNSResourceRecord] = []) {
        self.name = name
        self.primary = primary ?? name.prepending(Array("ns".utf8)) ?? name
        self.hostmaster = hostmaster ?? name.prepending(Array("hostmaster".utf8)) ?? name
        self.records = records
    }

    /// True for zones under in-addr.arpa or ip6.arpa.
    public var isReverse: Bool {
        name.isSubdomain(of: DNSName("in-addr.arpa.")!) || name.isSubdomain(of: DNSName("ip6.arpa.")!)
    }
}
