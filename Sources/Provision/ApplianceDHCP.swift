import Foundation
import Net
import OSIS
import Workflow

extension Appliance {
    /// The DHCP responder over the configured networks, or nil when none is on (the log line says why).
    func dhcpService() -> DHCPService? {
        guard config.networks.contains(where: { $0.mode != .off }) else { return nil }
        let registry = MachineRegistry(objects: engine.objects, engine: engine, rules: config.enrollment, logger: logger)
        return DHCPService(
            configuration: DHCPService.Configuration(networks: config.networks.map { Self.dhcpNetwork($0, http: config.http) }),
            leases: OSISDHCPLeaseStore(objects: engine.objects),
            events: DHCPEventRecorder(registry: registry, logger: logger),
            logger: logger)
    }

    /// A configured network as the responder sees it; iPXE scripts are fetched from `http.public-url`, or
    /// from the network's own address on the HTTP port.
    static func dhcpNetwork(_ network: NetworkConfig, http: HTTPConfig) -> DHCPNetwork {
        let boot = DHCPBootFiles(
            bios: network.boot.bios, uefiX64: network.boot.uefiX64, uefiARM64: network.boot.uefiARM64, uefiHTTP: network.boot.uefiHTTP,
            httpBase: http.publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }, httpPort: http.listen.port)
        return DHCPNetwork(
            name: network.name, interface: network.interface, serverAddress: network.address, subnet: network.subnet, mode: network.mode,
            pool: network.pool, router: network.router, dnsServers: network.dnsServers, domain: network.domain, leaseTime: network.leaseTime,
            reservations: network.reservations.compactMap { reservation in
                HardwareAddress(mac: reservation.mac).map {
                    DHCPReservation(hardwareAddress: $0, address: reservation.address, hostName: reservation.hostname)
                }
            },
            boot: boot, keyByClientIdentifier: network.keyByClientID)
    }
}
