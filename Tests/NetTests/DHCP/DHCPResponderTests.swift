import Foundation
import Testing

@testable import Net

/// RFC 2131 §4.3 as tables: each row a client's message and the decision it must get.
@Suite struct DHCPResponderTests {
    /// DISCOVER → OFFER → REQUEST (SELECTING) → ACK, then RENEWING, REBINDING, RELEASE, and the same address again.
    @Test func fullLifecycle() {
        var responder = DHCPResponder(networks: [lab()])
        let client = DHCPTestClient(1)
        let offer = responder.handle(client.message(.discover), on: eth0, now: t0)
        #expect(offer.type == .offer && offer.persisted.isEmpty)
        let address = offer.reply!.message.yiaddr
        #expect(address == IPv4Address(10, 0, 0, 100))
        #expect(offer.reply!.message.options.address(.serverIdentifier) == server)
        #expect(offer.reply!.message.options.uint32(.leaseTime) == 3600)
        #expect(offer.reply!.message.options.address(.router) == server)
        #expect(offer.reply!.message.options.text(.domainName) == "lab.example")
        #expect(offer.reply!.destination == .hardware(address, client.hardwareAddress))

        let ack = responder.handle(client.message(.request, requested: address, server: server), on: eth0, now: t0)
        #expect(ack.type == .ack && ack.reply!.message.yiaddr == address)
        #expect(ack.persisted.map(\.state) == [.bound] && ack.persisted.first?.expires == t0.addingTimeInterval(3600))

        let renew = responder.handle(client.message(.request, ciaddr: address), on: eth0, now: t0 + 1800)
        #expect(renew.type == .ack && renew.reply!.destination == .unicast(address))
        #expect(renew.persisted.first?.expires == t0.addingTimeInterval(1800 + 3600))
        let rebind = responder.handle(client.message(.request, ciaddr: address, broadcast: true), on: eth0, now: t0 + 3000)
        #expect(rebind.type == .ack)

        let release = responder.handle(client.message(.release, ciaddr: address, server: server), on: eth0, now: t0 + 3100)
        #expect(release.persisted.map(\.state) == [.released] && release.reply == nil)
        #expect(responder.handle(client.message(.discover), on: eth0, now: t0 + 3200).reply?.message.yiaddr == address)
    }

    /// Rows: a client state set up by `before`, one message, the expected answer.
    struct Row: Sendable, CustomStringConvertible {
        var description: String
        var message: @Sendable (DHCPTestClient) -> DHCPRequest
        var bound: Bool
        var expect: DHCPMessageType?
        var drop: DHCPDropReason?
    }

    static let bound = IPv4Address(10, 0, 0, 100)
    static let rows: [Row] = [
        Row(description: "SELECTING for another server: silent", message: { $0.message(.request, requested: bound, server: IPv4Address(10, 0, 0, 2)) },
            bound: false, expect: nil, drop: .otherServer),
        Row(description: "SELECTING without an offer: NAK", message: { $0.message(.request, requested: bound, server: server) },
            bound: false, expect: .nak),
        Row(description: "INIT-REBOOT, right address: ACK", message: { $0.message(.request, requested: bound) }, bound: true, expect: .ack),
        Row(description: "INIT-REBOOT, wrong address: NAK", message: { $0.message(.request, requested: IPv4Address(10, 0, 0, 101)) },
            bound: true, expect: .nak),
        Row(description: "INIT-REBOOT, other subnet: NAK", message: { $0.message(.request, requested: IPv4Address(192, 168, 1, 5)) },
            bound: true, expect: .nak),
        Row(description: "INIT-REBOOT, no record: silent", message: { $0.message(.request, requested: bound) }, bound: false, expect: nil,
            drop: .unknownClient),
        Row(description: "RENEWING a free pool address with no record: ACK", message: { $0.message(.request, ciaddr: IPv4Address(10, 0, 0, 101)) },
            bound: false, expect: .ack),
        Row(description: "RENEWING outside the subnet: NAK", message: { $0.message(.request, ciaddr: IPv4Address(192, 168, 1, 5)) },
            bound: true, expect: .nak),
        Row(description: "INFORM: ACK without lease", message: { $0.message(.inform, ciaddr: IPv4Address(10, 0, 0, 7)) }, bound: false, expect: .ack),
        Row(description: "RELEASE for another server: silent", message: { $0.message(.release, ciaddr: bound, server: IPv4Address(10, 0, 0, 2)) },
            bound: true, expect: nil, drop: .otherServer),
        Row(description: "OFFER sent to a server: dropped", message: { $0.message(.offer) }, bound: false, expect: nil, drop: .unsupportedType),
    ]

    @Test(arguments: rows)
    func request(row: Row) {
        var responder = DHCPResponder(networks: [lab()])
        let client = DHCPTestClient(1)
        if row.bound {
            let offer = responder.handle(client.message(.discover), on: eth0, now: t0)
            #expect(responder.handle(client.message(.request, requested: offer.reply!.message.yiaddr, server: server), on: eth0, now: t0).type == .ack)
        }
        let decision = responder.handle(row.message(client), on: eth0, now: t0 + 10)
        #expect(decision.type == row.expect, "\(decision)")
        if let drop = row.drop { #expect(decision.dropReason == drop) }
        if row.expect == .nak {
            #expect(decision.reply?.destination == .broadcast)
            #expect(decision.persisted.isEmpty)
        }
    }

    @Test func informGetsConfigurationOnly() {
        var responder = DHCPResponder(networks: [lab()])
        let reply = responder.handle(DHCPTestClient(1).message(.inform, ciaddr: IPv4Address(10, 0, 0, 7)), on: eth0, now: t0).reply!
        #expect(reply.message.yiaddr == .any && reply.message.options[.leaseTime] == nil)
        #expect(reply.destination == .unicast(IPv4Address(10, 0, 0, 7)))
        #expect(reply.message.options.address(.subnetMask) == IPv4Address(255, 255, 255, 0))
    }

    /// A declined address is out of the pool until the quarantine ends; the client gets another one.
    @Test func declineQuarantines() {
        var responder = DHCPResponder(networks: [lab()])
        let client = DHCPTestClient(1)
        let first = responder.handle(client.message(.discover), on: eth0, now: t0).reply!.message.yiaddr
        _ = responder.handle(client.message(.request, requested: first, server: server), on: eth0, now: t0)
        let decline = responder.handle(client.message(.decline, requested: first, server: server), on: eth0, now: t0 + 1)
        #expect(decline.persisted.map(\.state) == [.declined])
        let second = responder.handle(client.message(.discover), on: eth0, now: t0 + 2).reply!.message.yiaddr
        #expect(second != first)
        let other = DHCPTestClient(2)
        #expect(responder.handle(other.message(.discover, requested: first), on: eth0, now: t0 + 3).reply!.message.yiaddr != first)
        // After the quarantine the address is free again (for a new client: `other` keeps its own offer, RFC 2131 §4.3.1).
        #expect(responder.handle(DHCPTestClient(3).message(.discover, requested: first), on: eth0, now: t0 + 700).reply!.message.yiaddr == first)
    }

    /// Leases are keyed by MAC: a new client identifier (the installer after the ROM) keeps the address.
    @Test func keyedByHardwareAddress() {
        var responder = DHCPResponder(networks: [lab()])
        var rom = DHCPTestClient(1, options: [DHCPOption(.clientIdentifier, [1, 0x52, 0x54, 0, 0, 0, 1])])
        let address = responder.handle(rom.message(.discover), on: eth0, now: t0).reply!.message.yiaddr
        _ = responder.handle(rom.message(.request, requested: address, server: server), on: eth0, now: t0)
        rom.options = [DHCPOption(.clientIdentifier, Array("installer-id".utf8))]
        #expect(responder.handle(rom.message(.discover), on: eth0, now: t0 + 60).reply!.message.yiaddr == address)
        #expect(responder.tables["lab"]!.count == 1)
    }

    @Test func poolExhaustionAndReclaim() {
        var responder = DHCPResponder(networks: [lab(pool: "10.0.0.100-10.0.0.101")])
        for last in UInt8(1)...2 {
            let client = DHCPTestClient(last)
            let address = responder.handle(client.message(.discover), on: eth0, now: t0).reply!.message.yiaddr
            #expect(responder.handle(client.message(.request, requested: address, server: server), on: eth0, now: t0).type == .ack)
        }
        #expect(responder.handle(DHCPTestClient(3).message(.discover), on: eth0, now: t0).dropReason == .poolExhausted)
        let expired = responder.reclaim(now: t0 + 3601)
        #expect(expired.count == 2 && expired.allSatisfy { $0.state == .expired })
        #expect(responder.handle(DHCPTestClient(3).message(.discover), on: eth0, now: t0 + 3602).type == .offer)
    }

    /// A full pool answers a flood of new clients without scanning itself again for each, and frees up
    /// as soon as a lease is released or the earliest one runs out.
    @Test func aFullPoolIsScannedOncePerChange() throws {
        var responder = DHCPResponder(networks: [lab(pool: "10.0.0.100-10.0.0.102")])
        for last in UInt8(1)...3 {
            let client = DHCPTestClient(last)
            let address = responder.handle(client.message(.discover), on: eth0, now: t0).reply!.message.yiaddr
            #expect(responder.handle(client.message(.request, requested: address, server: server), on: eth0, now: t0 + Double(last)).type == .ack)
        }
        for last in UInt8(10)...20 {
            #expect(responder.handle(DHCPTestClient(last).message(.discover), on: eth0, now: t0 + 10).dropReason == .poolExhausted)
        }
        #expect(responder.tables["lab"]!.fullScans == 1)

        // A release frees an address at once.
        let first = DHCPTestClient(1)
        let held = try #require(responder.tables["lab"]!.lease(for: .hardware(first.hardwareAddress))).address
        _ = responder.handle(first.message(.release, ciaddr: held, server: server), on: eth0, now: t0 + 20)
        #expect(responder.handle(DHCPTestClient(10).message(.discover), on: eth0, now: t0 + 21).reply?.message.yiaddr == held)
        #expect(responder.handle(DHCPTestClient(10).message(.request, requested: held, server: server), on: eth0, now: t0 + 21).type == .ack)
        #expect(responder.handle(DHCPTestClient(11).message(.discover), on: eth0, now: t0 + 22).dropReason == .poolExhausted)
        #expect(responder.tables["lab"]!.fullScans == 2)

        // The earliest lease left (client 2's, bound at t0 + 2) runs out at t0 + 3602; not a second before.
        #expect(responder.handle(DHCPTestClient(12).message(.discover), on: eth0, now: t0 + 3601).dropReason == .poolExhausted)
        #expect(responder.handle(DHCPTestClient(12).message(.discover), on: eth0, now: t0 + 3602).type == .offer)
    }

    @Test func reservations() {
        let reserved = DHCPReservation(hardwareAddress: DHCPTestClient(9).hardwareAddress, address: IPv4Address(10, 0, 0, 50), hostName: "node9")
        var responder = DHCPResponder(networks: [lab(mode: .reservations, reservations: [reserved])])
        let offer = responder.handle(DHCPTestClient(9).message(.discover), on: eth0, now: t0).reply!.message
        #expect(offer.yiaddr == IPv4Address(10, 0, 0, 50) && offer.options.text(.hostName) == "node9")
        #expect(responder.handle(DHCPTestClient(8).message(.discover), on: eth0, now: t0).dropReason == .notReserved)
        // In pool mode the reserved address is never given to anyone else.
        var pool = DHCPResponder(networks: [lab(reservations: [reserved], pool: "10.0.0.50-10.0.0.51")])
        #expect(pool.handle(DHCPTestClient(8).message(.discover), on: eth0, now: t0).reply!.message.yiaddr == IPv4Address(10, 0, 0, 51))
    }

    @Test func offModeAndUnknownInterface() {
        var responder = DHCPResponder(networks: [lab(mode: .off)])
        #expect(responder.handle(DHCPTestClient(1).message(.discover), on: eth0, now: t0).dropReason == .networkOff)
        var other = DHCPResponder(networks: [lab()])
        #expect(other.handle(DHCPTestClient(1).message(.discover), on: DHCPLink(interface: "eth7"), now: t0).dropReason == .noNetwork)
        // No interface name, but an address inside the subnet: that network.
        #expect(other.handle(DHCPTestClient(1).message(.discover), on: DHCPLink(addresses: [server]), now: t0).type == .offer)
    }

    /// Relayed: the subnet by giaddr, or by option 82 sub-option 5; replies to the relay; sub-option 11 is the server id.
    @Test func relayedSubnetSelection() {
        var responder = DHCPResponder(networks: [lab(), relayed])
        var client = DHCPTestClient(1)
        client.giaddr = IPv4Address(10, 9, 0, 254)
        let offer = responder.handle(client.message(.discover), on: eth0, now: t0).reply!
        #expect(offer.message.yiaddr == IPv4Address(10, 9, 0, 100) && offer.destination == .relay(IPv4Address(10, 9, 0, 254)))
        #expect(offer.message.giaddr == IPv4Address(10, 9, 0, 254))

        var selected = DHCPTestClient(2, options: [DHCPOption(.relayAgentInformation, [5, 4, 10, 0, 0, 0, 11, 4, 10, 0, 0, 254])])
        selected.giaddr = IPv4Address(192, 168, 77, 1)
        let reply = responder.handle(selected.message(.discover), on: eth0, now: t0).reply!
        #expect(reply.message.yiaddr == IPv4Address(10, 0, 0, 100))
        #expect(reply.message.options.address(.serverIdentifier) == IPv4Address(10, 0, 0, 254))
        #expect(reply.message.options[.relayAgentInformation] == [5, 4, 10, 0, 0, 0, 11, 4, 10, 0, 0, 254])
        #expect(reply.message.options.all.last?.code == .relayAgentInformation)
        // The REQUEST names the override as server identifier: still ours.
        let ack = responder.handle(selected.message(.request, requested: reply.message.yiaddr, server: IPv4Address(10, 0, 0, 254)), on: eth0, now: t0)
        #expect(ack.type == .ack)
        // A NAK through a relay sets the broadcast bit (RFC 2131 §4.3.2).
        let nak = responder.handle(selected.message(.request, requested: IPv4Address(10, 0, 0, 3)), on: eth0, now: t0).reply!
        #expect(nak.message.messageType == .nak && nak.message.broadcast && nak.destination == .relay(IPv4Address(192, 168, 77, 1)))
        var lost = DHCPTestClient(3)
        lost.giaddr = IPv4Address(172, 16, 0, 1)
        #expect(responder.handle(lost.message(.discover), on: eth0, now: t0).dropReason == .noNetwork)
    }

    @Test func restartKeepsAddresses() {
        var responder = DHCPResponder(networks: [lab()])
        let client = DHCPTestClient(1)
        _ = responder.handle(DHCPTestClient(2).message(.discover), on: eth0, now: t0)
        let address = responder.handle(client.message(.discover), on: eth0, now: t0).reply!.message.yiaddr
        let ack = responder.handle(client.message(.request, requested: address, server: server), on: eth0, now: t0)
        var restarted = DHCPResponder(networks: [lab()], leases: ack.persisted)
        #expect(restarted.handle(client.message(.discover), on: eth0, now: t0 + 100).reply!.message.yiaddr == address)
        #expect(restarted.handle(client.message(.request, requested: address), on: eth0, now: t0 + 100).type == .ack)
    }

    /// §4.1: broadcast bit, or no address yet: broadcast; relayed: to giaddr; ciaddr: unicast.
    @Test func replyAddressing() {
        let request = DHCPTestClient(1).message(.discover, broadcast: true).message
        var reply = request
        reply.yiaddr = IPv4Address(10, 0, 0, 5)
        #expect(DHCPDestination.of(request: request, reply: reply, isNAK: false) == .broadcast)
        var unicast = request
        unicast.broadcast = false
        #expect(DHCPDestination.of(request: unicast, reply: reply, isNAK: false) == .hardware(reply.yiaddr, unicast.hardwareAddress))
        unicast.ciaddr = IPv4Address(10, 0, 0, 9)
        #expect(DHCPDestination.of(request: unicast, reply: reply, isNAK: false) == .unicast(IPv4Address(10, 0, 0, 9)))
        #expect(DHCPDestination.of(request: unicast, reply: reply, isNAK: true) == .broadcast)
    }
}

extension Date {
    static func + (date: Date, seconds: Int) -> Date { date.addingTimeInterval(TimeInterval(seconds)) }
}
