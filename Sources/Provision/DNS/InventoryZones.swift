public import Foundation
public import Net

/// Builds the zones the responder serves from the config, imported zone files and the inventory:
/// each machine with a host name and an address, and each bound lease with a host name, gets an A record
/// in the host zone and a PTR record in the reverse zone that holds its address.
public struct InventoryZones: Sendable {
    public let config: DNSConfig

    public init(config: DNSConfig) { self.config = config }

    /// A name and address pair from the inventory.
    public struct Host: Sendable, Hashable {
        public var name: String
        public var address: IPv4Address
        public init(name: String, address: IPv4Address) {
            self.name = name
            self.address = address
        }
    }

    /// The zones; `problems` lists records left out (a host name that is not a name, a clash with a CNAME).
    public func build(hosts: [Host], imported: [ImportedZone], serial: UInt32) -> (zones: DNSZoneSet, problems: [String]) {
        var problems: [String] = []
        var zones: [DNSZone] = []
        for zoneConfig in config.zones {
            let soa = DNSResourceRecord(
                name: zoneConfig.name, ttl: 3600,
                data: .soa(DNSSOA(primary: zoneConfig.primary, mailbox: zoneConfig.hostmaster, serial: serial, minimum: 60)))
            var zone = try! DNSZone(soa: soa)
            // Every zone has an NS record at its apex (RFC 1034 §4.2.1); the SOA's primary unless given.
            if !zoneConfig.records.contains(where: { $0.type == .ns && $0.name.lowercased() == zone.origin }) {
                try? zone.add(DNSResourceRecord(name: zoneConfig.name, ttl: 3600, data: .ns(zoneConfig.primary)))
            }
            for record in zoneConfig.records {
                do { try zone.add(record) } catch { problems.append("\(error)") }
            }
            zones.append(zone)
        }
        for file in imported {
            let records = file.lines.compactMap { try? DNSResourceRecord(zoneLine: $0) }
            guard let apex = DNSName(file.origin) else { continue }
            if let index = zones.firstIndex(where: { $0.origin == apex.lowercased() }) {
                for record in records where record.type != .soa {
                    do { try zones[index].add(record) } catch { problems.append("\(error)") }
                }
            } else if let soa = records.first(where: { $0.type == .soa && $0.name.lowercased() == apex.lowercased() }) {
                do { zones.append(try DNSZone(soa: soa, records: records)) } catch { problems.append("\(error)") }
            }
        }
        var set = DNSZoneSet(zones)
        let hostZone = config.hostZone.map(\.name)
        for host in hosts {
            guard let parsed = DNSName(host.name), !parsed.isRoot else {
                problems.append("host name '\(host.name)' is not a domain name")
                continue
            }
            // A dotted name that falls in one of our zones is used as it is; otherwise it is a label in the host zone.
            let name: DNSName
            if host.name.contains("."), set.zones.keys.contains(where: { parsed.isSubdomain(of: $0) }) {
                name = parsed
            } else if let hostZone, let qualified = parsed.appending(hostZone) {
                name = qualified
            } else {
                continue
            }
            add(DNSResourceRecord(name: name, ttl: config.ttl, data: .a(host.address)), to: &set, problems: &problems)
            add(DNSResourceRecord(name: Self.reverseName(host.address), ttl: config.ttl, data: .ptr(name)), to: &set, problems: &problems)
        }
        return (set, problems)
    }

    private func add(_ record: DNSResourceRecord, to set: inout DNSZoneSet, problems: inout [String]) {
        let key = record.name.lowercased()
        guard let origin = set.zones.keys.filter({ key.isSubdomain(of: $0) }).max(by: { $0.labelCount < $1.labelCount }) else { return }
        do { try set[origin]!.add(record) } catch { problems.append("\(error)") }
    }

    /// `d.c.b.a.in-addr.arpa.` for a.b.c.d (RFC 1035 §3.5).
    public static func reverseName(_ address: IPv4Address) -> DNSName {
        DNSName(address.octets.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa.")!
    }

    /// A serial from the clock: seconds since 1970 fit in 32 bits until 2106 and grow across restarts.
    public static func clockSerial(_ date: Date = Date()) -> UInt32 {
        UInt32(clamping: Int(date.timeIntervalSince1970))
    }
}
