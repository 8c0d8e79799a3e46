import Net
import StrictYAML

extension DNSConfig {
    init(reading map: YAMLMapping) {
        self.init()
        if let value = map["listen"]?.listenAddress() { listen = value }
        if let zones = map["zones"]?.list({ $0.mapping().flatMap(DNSZoneConfig.init(reading:)) }) {
            self.zones = zones
            for (index, zone) in zones.enumerated() where zones[..<index].contains(where: { $0.name.lowercased() == zone.name.lowercased() }) {
                map["zones"]?.error("zone '\(zone.name)' is declared twice")
            }
        }
        if let node = map["domain"], let text = node.string() {
            if let name = DNSName(text), zones.contains(where: { $0.name.lowercased() == name.lowercased() }) {
                domain = text
            } else {
                node.error("domain '\(text)' is not one of the zones declared under dns.zones")
            }
        }
        upstreams = map["upstreams"]?.list { $0.listenAddress() } ?? []
        transfer = map["transfer"]?.list { $0.ipv4()?.description } ?? []
        notify = map["notify"]?.list { $0.listenAddress() } ?? []
        if let value = map["ttl"]?.int(in: 0...86400) { ttl = UInt32(value) }
        map.finish()
    }
}

extension DNSZoneConfig {
    init?(reading map: YAMLMapping) {
        guard let nameNode = map.required("name"), let name = nameNode.dnsName() else {
            map.finish()
            return nil
        }
        let primary = map["primary"]?.dnsName()
        let hostmaster = map["hostmaster"]?.dnsName()
        var records: [DNSResourceRecord] = []
        for line in map["records"]?.list() ?? [] {
            guard let text = line.string() else { continue }
            do {
                let record = try DNSResourceRecord(zoneLine: text, origin: name)
                if !record.name.isSubdomain(of: name) {
                    line.error("record '\(text)' is outside zone \(name)")
                } else if record.type == .soa {
                    line.error("the SOA is made from name, primary and hostmaster; leave it out of records")
                } else {
                    records.append(record)
                }
            } catch {
                line.error("record '\(text)': \(error)")
            }
        }
        map.finish()
        self.init(name: name, primary: primary, hostmaster: hostmaster, records: records)
    }
}

extension YAMLNode {
    func dnsName() -> DNSName? { parsed("a domain name", { DNSName($0) }) }
}
