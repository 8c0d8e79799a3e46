import Foundation
import NIOCore
import Net

/// Builds client messages for the responder tests, the way a client would send them.
struct DHCPTestClient {
    var mac: [UInt8]
    var xid: UInt32 = 0x1234
    var options: [DHCPOption] = []
    var giaddr: IPv4Address = .any

    init(_ last: UInt8, options: [DHCPOption] = []) {
        mac = [0x52, 0x54, 0x00, 0, 0, last]
        self.options = options
    }

    var hardwareAddress: HardwareAddress { HardwareAddress(bytes: mac) }

    func message(
        _ type: DHCPMessageType, ciaddr: IPv4Address = .any, requested: IPv4Address? = nil, server: IPv4Address? = nil, broadcast: Bool = false
    ) -> DHCPRequest {
        var message = DHCPMessage(op: .request, xid: xid, ciaddr: ciaddr, giaddr: giaddr, chaddr: mac)
        message.broadcast = broadcast
        message.options.set(.messageType(type))
        if let requested { message.options.set(.address(.requestedAddress, requested)) }
        if let server { message.options.set(.address(.serverIdentifier, server)) }
        for option in options { message.options.set(option) }
        // Through the wire and back, so every test request is one the parser accepts.
        var bytes = message.bytes()
        return try! DHCPRequest(DHCPMessage(parsing: &bytes))
    }
}

extension DHCPDecision {
    var reply: DHCPReply? {
        switch self {
        case .reply(let reply), .persistThenReply(_, let reply): return reply
        case .persist, .drop: return nil
        }
    }

    var persisted: [DHCPLease] {
        switch self {
        case .persistThenReply(let leases, _), .persist(let leases): return leases
        case .reply, .drop: return []
        }
    }

    var dropReason: DHCPDropReason? {
        if case .drop(let reason) = self { return reason }
        return nil
    }

    var type: DHCPMessageType? { reply?.message.messageType }
}

let t0 = Date(timeIntervalSince1970: 1_800_000_000)
let server = IPv4Address(10, 0, 0, 1)

func lab(mode: DHCPNetwork.Mode = .pool, reservations: [DHCPReservation] = [], pool: String = "10.0.0.100-10.0.0.102") -> DHCPNetwork {
    DHCPNetwork(
        name: "lab", interface: "eth0", serverAddress: server, subnet: IPv4Subnet("10.0.0.0/24")!, mode: mode, pool: IPv4Range(pool),
        router: server, dnsServers: [IPv4Address(10, 0, 0, 53)], domain: "lab.example", leaseTime: .seconds(3600), reservations: reservations,
        boot: DHCPBootFiles(bios: "undionly.kpxe", uefiX64: "ipxe.efi", uefiARM64: "ipxe-arm64.efi", uefiHTTP: "http://10.0.0.1/ipxe.efi", httpPort: 8080))
}

let relayed = DHCPNetwork(
    name: "far", serverAddress: IPv4Address(10, 9, 0, 1), subnet: IPv4Subnet("10.9.0.0/24")!, pool: IPv4Range("10.9.0.100-10.9.0.199"))
let eth0 = DHCPLink(interface: "eth0", addresses: [server])
