import Net
import Provision
import StrictYAML
import Testing

/// DHCP network settings: reservations and lease keying, checked with FILE:LINE:COLUMN.
@Suite struct NetworkConfigTests {
    static let network = """
        networks:
          - name: lab
            subnet: 10.0.0.0/24
            mode: reservations

        """

    @Test func reservationsParse() throws {
        let config = try ApplianceConfig.parse(
            Self.network + "    key-by-client-id: true\n    reservations:\n      - mac: 52:54:00:AA:00:01\n        address: 10.0.0.21\n        hostname: node1\n",
            file: "a.yaml")
        let network = try #require(config.networks.first)
        #expect(network.reservations == [Reservation(mac: "52:54:00:aa:00:01", address: IPv4Address(10, 0, 0, 21), hostname: "node1")])
        #expect(network.keyByClientID)
    }

    @Test func badReservationsAreReportedWithTheirPlace() {
        let found = problems(
            Self.network + "    reservations:\n      - mac: 52:54:00:aa:00:01\n        address: 10.1.0.21\n      - mac: nope\n        address: 10.0.0.22\n")
        #expect(found.contains { $0.hasPrefix("a.yaml:") && $0.contains("reservation 10.1.0.21 is not inside subnet 10.0.0.0/24") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("a.yaml:8:14:") && $0.contains("'nope' is not a MAC address") }, "\(found)")
        #expect(problems(Self.network).contains { $0.contains("has mode reservations but no 'reservations'") })
    }
}
