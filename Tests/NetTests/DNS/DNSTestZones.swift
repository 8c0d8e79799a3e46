import Net

/// The zones the responder tests run against, written as zone text.
enum DNSTestZones {
    static let lab = zone(
        """
        lab. 3600 IN SOA ns1.lab. hostmaster.lab. 7 3600 600 604800 60
        lab. 3600 IN NS ns1.lab.
        lab. 300 IN MX 10 mail.lab.
        lab. 300 IN TXT "provision test zone"
        ns1.lab. 300 IN A 10.0.0.1
        mail.lab. 300 IN A 10.0.0.2
        pxe1.lab. 300 IN A 10.0.0.21
        pxe1.lab. 300 IN AAAA fd00::21
        www.lab. 300 IN CNAME pxe1.lab.
        alias.lab. 300 IN CNAME www.lab.
        loop1.lab. 300 IN CNAME loop2.lab.
        loop2.lab. 300 IN CNAME loop1.lab.
        outside.lab. 300 IN CNAME example.com.
        dangling.lab. 300 IN CNAME nothere.lab.
        _http._tcp.lab. 300 IN SRV 0 5 8080 pxe1.lab.
        host.rack1.lab. 300 IN A 10.0.1.1
        sub.lab. 300 IN NS ns.sub.lab.
        ns.sub.lab. 300 IN A 10.0.9.1
        """)

    static let reverse = zone(
        """
        0.0.10.in-addr.arpa. 3600 IN SOA ns1.lab. hostmaster.lab. 3 3600 600 604800 60
        0.0.10.in-addr.arpa. 3600 IN NS ns1.lab.
        21.0.0.10.in-addr.arpa. 300 IN PTR pxe1.lab.
        """)

    static func zone(_ text: String) -> DNSZone {
        let records = text.split(separator: "\n").map { try! DNSResourceRecord(zoneLine: String($0)) }
        return try! DNSZone(soa: records[0], records: Array(records.dropFirst()))
    }

    static var set: DNSZoneSet { DNSZoneSet([lab, reverse]) }
}
