import Net
import Provision
import StrictYAML
import Testing

/// The `dns:` section: zones with static records, and every mistake at its FILE:LINE:COLUMN.
@Suite struct DNSConfigTests {
    @Test func readsZonesAndRecords() throws {
        let config = try ApplianceConfig.parse(
            """
            dns:
              listen: 127.0.0.1:5353
              zones:
                - name: lab.
                  primary: ns1.lab.
                  records:
                    - "ns1 IN A 10.0.0.1"
                    - "@ 600 IN MX 10 mail"
                - name: 0.0.10.in-addr.arpa.
              upstreams: [127.0.0.1:5300]
              transfer: [10.0.0.5]
              notify: [10.0.0.5:53]
            """, file: "a.yaml")
        #expect(config.dns.listen == ListenAddress(host: "127.0.0.1", port: 5353))
        #expect(config.dns.zones.map(\.name.description) == ["lab.", "0.0.10.in-addr.arpa."])
        #expect(config.dns.zones[0].records.map(\.description) == ["ns1.lab.\t300\tIN\tA\t10.0.0.1", "lab.\t600\tIN\tMX\t10 mail.lab."])
        #expect(config.dns.zones[1].isReverse && config.dns.zones[1].primary.description == "ns.0.0.10.in-addr.arpa.")
        #expect(config.dns.hostZone?.name.description == "lab.")
        #expect(config.dns.transfer == ["10.0.0.5"])
    }

    @Test func reportsBadRecordsAndNamesWhereTheyAre() {
        #expect(problems("dns:\n  zones:\n    - name: lab.\n      records:\n        - \"x IN A 300.1.1.1\"\n") == [
            "a.yaml:5:11: record 'x IN A 300.1.1.1': '300.1.1.1' is not an IPv4 address"
        ])
        #expect(problems("dns:\n  zones:\n    - name: lab.\n      records:\n        - \"x.other. IN A 1.1.1.1\"\n") == [
            "a.yaml:5:11: record 'x.other. IN A 1.1.1.1' is outside zone lab."
        ])
        #expect(problems("dns:\n  zones:\n    - name: lab.\n  domain: other.\n") == [
            "a.yaml:4:11: domain 'other.' is not one of the zones declared under dns.zones"
        ])
        #expect(problems("dns:\n  zones:\n    - name: lab.\n    - name: LAB\n").count == 1)
    }

    @Test func machinesGetForwardAndReverseRecords() throws {
        let config = DNSConfig(zones: [DNSZoneConfig(name: DNSName("lab.")!), DNSZoneConfig(name: DNSName("0.0.10.in-addr.arpa.")!)])
        let (zones, problems) = InventoryZones(config: config).build(
            hosts: [.init(name: "pxe1", address: IPv4Address(10, 0, 0, 21)), .init(name: "bad name..", address: IPv4Address(10, 0, 0, 22))],
            imported: [], serial: 5)
        #expect(problems == ["host name 'bad name..' is not a domain name"])
        let forward = zones.answer(DNSQuestion(name: DNSName("PXE1.lab.")!, type: .a))
        #expect(forward?.answers.map(\.description) == ["PXE1.lab.\t300\tIN\tA\t10.0.0.21"])
        let reverse = zones.answer(DNSQuestion(name: DNSName("21.0.0.10.in-addr.arpa.")!, type: .ptr))
        #expect(reverse?.answers.map(\.data) == [.ptr(DNSName("pxe1.lab.")!)])
        let ns = zones.answer(DNSQuestion(name: DNSName("lab.")!, type: .ns))
        #expect(ns?.answers.map(\.data) == [.ns(DNSName("ns.lab.")!)])
    }

    @Test func theSerialGrowsOnEveryChangeAndOnlyThen() throws {
        let config = DNSConfig(zones: [DNSZoneConfig(name: DNSName("lab.")!)])
        let builder = InventoryZones(config: config)
        let state = DNSResponderState(DNSResponder())
        func serial() -> UInt32 { state.responder.zones[DNSName("lab.")!]!.serial }
        #expect(state.update(zones: builder.build(hosts: [], imported: [], serial: 100).zones).count == 1)
        #expect(serial() == 100)
        // Same contents, same clock second or an earlier one: unchanged.
        #expect(state.update(zones: builder.build(hosts: [], imported: [], serial: 100).zones).isEmpty)
        #expect(serial() == 100)
        // A new host within the same second still moves the serial on.
        let host = InventoryZones.Host(name: "a", address: IPv4Address(10, 0, 0, 1))
        #expect(state.update(zones: builder.build(hosts: [host], imported: [], serial: 100).zones).count == 1)
        #expect(serial() == 101)
        #expect(state.update(zones: builder.build(hosts: [], imported: [], serial: 90).zones).count == 1)
        #expect(serial() == 102)
    }
}
