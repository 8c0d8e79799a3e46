public import Foundation

/// Where a request arrived: the interface (from IP_PKTINFO) and its IPv4 addresses, and which port.
public struct DHCPLink: Sendable, Hashable {
    public var interface: String?
    public var addresses: [IPv4Address]
    /// True on the PXE boot server port 4011 rather than the DHCP server port 67.
    public var isBootServer: Bool

    public init(interface: String? = nil, addresses: [IPv4Address] = [], isBootServer: Bool = false) {
        self.interface = interface
        self.addresses = addresses
        self.isBootServer = isBootServer
    }
}

/// The DHCP server of RFC 2131 §4.3 as a pure value: a validated request, the link it came on and the
/// time in, a decision out. It owns the in-memory lease tables; the adapter makes the leases it returns
/// durable before sending the reply that goes with them.
public struct DHCPResponder: Sendable {
    public private(set) var networks: [DHCPNetwork]
    public private(set) var tables: [String: DHCPLeaseTable]
    /// How long an offered address is held for the client's REQUEST.
    public var offerHold: Duration = .seconds(60)
    /// How long a declined address stays out of the pool (RFC 2131 §4.3.3 leaves it to the server).
    public var quarantine: Duration = .seconds(600)

    public init(networks: [DHCPNetwork], leases: [DHCPLease] = []) {
        self.networks = networks
        var tables: [String: DHCPLeaseTable] = [:]
        for network in networks { tables[network.name] = DHCPLeaseTable(network: network) }
        for lease in leases { tables[lease.network]?.load(lease) }
        self.tables = tables
    }

    public mutating func handle(_ request: DHCPRequest, on link: DHCPLink, now: Date) -> DHCPDecision {
        guard let network = network(for: request, on: link) else { return .drop(.noNetwork) }
        guard network.mode != .off else { return .drop(.networkOff) }
        guard let serverID = serverIdentifier(network, request, link) else { return .drop(.noServerAddress) }
        if network.mode == .proxy || link.isBootServer {
            return proxy(request, network, serverID: serverID, link: link)
        }
        if network.mode == .reservations, network.reservation(for: request.hardwareAddress) == nil {
            return .drop(.notReserved)
        }
        switch request.type {
        case .discover: return discover(request, network, serverID: serverID, now: now)
        case .request: return self.request(request, network, serverID: serverID, now: now)
        case .release: return release(request, network, serverID: serverID, now: now)
        case .decline: return decline(request, network, serverID: serverID, now: now)
        case .inform: return inform(request, network, serverID: serverID)
        default: return .drop(.unsupportedType)
        }
    }

    /// The network of a request: by link selection (RFC 3527) or giaddr when relayed, else by the
    /// receiving interface's name, else by its addresses.
    public func network(for request: DHCPRequest, on link: DHCPLink) -> DHCPNetwork? {
        let message = request.message
        if message.giaddr != .any {
            let selector = request.relayInformation?.linkSelection ?? message.giaddr
            return networks.first { $0.subnet.contains(selector) }
        }
        if let name = link.interface, let network = networks.first(where: { $0.interface == name }) { return network }
        // An interface the config does not name: the network one of its addresses is in.
        return networks.first { network in
            (network.interface == nil || link.interface == nil || network.interface == link.interface)
                && link.addresses.contains { network.subnet.contains($0) }
        }
    }

    /// Option 54 of our replies: the relay's override (RFC 5107), the configured address, or ours on the link.
    func serverIdentifier(_ network: DHCPNetwork, _ request: DHCPRequest, _ link: DHCPLink) -> IPv4Address? {
        if request.message.giaddr != .any, let override = request.relayInformation?.serverIdentifierOverride { return override }
        return network.serverAddress ?? link.addresses.first { network.subnet.contains($0) } ?? link.addresses.first
    }

    /// The addresses a request for another server might still name as ours (the override and the real one).
    func isOurs(_ identifier: IPv4Address, _ network: DHCPNetwork, serverID: IPv4Address) -> Bool {
        identifier == serverID || identifier == network.serverAddress
    }

    // MARK: RFC 2131 §4.3.1

    mutating func discover(_ request: DHCPRequest, _ network: DHCPNetwork, serverID: IPv4Address, now: Date) -> DHCPDecision {
        // Taken out of the dictionary while it changes, so the change is in place rather than a copy of every lease.
        guard var table = tables.removeValue(forKey: network.name) else { return .drop(.noNetwork) }
        defer { tables[network.name] = table }
        let hardware = request.hardwareAddress
        let client = table.key(hardware, clientIdentifier: request.clientIdentifier)
        let address: IPv4Address
        var existing = table.lease(for: client)
        if let lease = existing, !table.isAvailable(lease.address, for: client, hardwareAddress: hardware, now: now) { existing = nil }
        if let reservation = network.reservation(for: hardware) {
            address = reservation.address
        } else if let lease = existing, lease.state != .declined {
            // The same client gets its address back (RFC 2131 §4.3.1, first choice).
            address = lease.address
        } else if let requested = request.requestedAddress, network.pool?.contains(requested) == true,
            table.isAvailable(requested, for: client, hardwareAddress: hardware, now: now)
        {
            address = requested
        } else if let free = table.allocate(for: client, hardwareAddress: hardware, now: now) {
            address = free
        } else {
                return .drop(.poolExhausted)
        }
        if existing?.state != .bound || existing?.address != address || existing.map({ $0.expires <= now }) == true {
            table.record(
                DHCPLease(
                    network: network.name, address: address, hardwareAddress: hardware, clientIdentifier: request.clientIdentifier,
                    state: .offered, expires: now.addingTimeInterval(offerHold.seconds), hostName: request.hostName))
        }
        var reply = makeReply(.offer, to: request, network, serverID: serverID)
        reply.yiaddr = address
        addLeaseOptions(&reply, network, address: address, hardware: hardware)
        addBootOptions(&reply, request, network, serverID: serverID)
        return .reply(finish(reply, request, network))
    }

    // MARK: RFC 2131 §4.3.2

    mutating func request(_ request: DHCPRequest, _ network: DHCPNetwork, serverID: IPv4Address, now: Date) -> DHCPDecision {
        // Taken out of the dictionary while it changes, so the change is in place rather than a copy of every lease.
        guard var table = tables.removeValue(forKey: network.name) else { return .drop(.noNetwork) }
        defer { tables[network.name] = table }
        let message = request.message
        let hardware = request.hardwareAddress
        let client = table.key(hardware, clientIdentifier: request.clientIdentifier)
        let current = table.lease(for: client)
        let wanted: IPv4Address
        if let identifier = request.serverIdentifier {
            // SELECTING: the client answers one server's OFFER, broadcast so every server hears.
            guard isOurs(identifier, network, serverID: serverID) else {
                table.withdrawOffer(for: client)
                        return .drop(.otherServer)
            }
            guard let requested = request.requestedAddress, message.ciaddr == .any else { return nak(request, network, serverID) }
            guard current?.address == requested else { return nak(request, network, serverID) }
            wanted = requested
        } else if let requested = request.requestedAddress, message.ciaddr == .any {
            // INIT-REBOOT: the client checks the address it remembers.
            guard network.subnet.contains(requested) else { return nak(request, network, serverID) }
            guard let current else {
                if let reservation = network.reservation(for: hardware), reservation.address == requested {
                    wanted = requested
                    return ack(request, network, table: &table, address: wanted, serverID: serverID, now: now)
                }
                return .drop(.unknownClient)
            }
            guard current.address == requested, current.state != .declined else { return nak(request, network, serverID) }
            wanted = requested
        } else if message.ciaddr != .any {
            // RENEWING (unicast to us) or REBINDING (broadcast): extend the lease the client holds.
            guard network.subnet.contains(message.ciaddr) else { return nak(request, network, serverID) }
            if current?.address != message.ciaddr {
                let allowed = network.reservation(for: hardware).map { $0.address == message.ciaddr }
                    ?? (network.pool?.contains(message.ciaddr) == true)
                guard allowed, table.isAvailable(message.ciaddr, for: client, hardwareAddress: hardware, now: now) else {
                    return nak(request, network, serverID)
                }
            }
            wanted = message.ciaddr
        } else {
            return nak(request, network, serverID)
        }
        if let reservation = network.reservation(for: hardware), reservation.address != wanted { return nak(request, network, serverID) }
        guard table.isAvailable(wanted, for: client, hardwareAddress: hardware, now: now) else { return nak(request, network, serverID) }
        return ack(request, network, table: &table, address: wanted, serverID: serverID, now: now)
    }

    private mutating func ack(
        _ request: DHCPRequest, _ network: DHCPNetwork, table: inout DHCPLeaseTable, address: IPv4Address, serverID: IPv4Address, now: Date
    ) -> DHCPDecision {
        let hardware = request.hardwareAddress
        var persist: [DHCPLease] = []
        // The address the machine held before is let go in the store too: one machine, one lease.
        if var previous = table.lease(for: table.key(hardware, clientIdentifier: request.clientIdentifier)),
            previous.address != address, previous.state == .bound
        {
            previous.state = .released
            previous.expires = now
            persist.append(previous)
        }
        let lease = DHCPLease(
            network: network.name, address: address, hardwareAddress: hardware, clientIdentifier: request.clientIdentifier, state: .bound,
            expires: now.addingTimeInterval(network.leaseTime.seconds),
            hostName: network.reservation(for: hardware)?.hostName ?? request.hostName)
        table.record(lease)
        var reply = makeReply(.ack, to: request, network, serverID: serverID)
        reply.yiaddr = address
        reply.ciaddr = request.message.ciaddr
        addLeaseOptions(&reply, network, address: address, hardware: hardware)
        addBootOptions(&reply, request, network, serverID: serverID)
        return .persistThenReply(persist + [lease], finish(reply, request, network))
    }

    private func nak(_ request: DHCPRequest, _ network: DHCPNetwork, _ serverID: IPv4Address) -> DHCPDecision {
        var reply = makeReply(.nak, to: request, network, serverID: serverID)
        // RFC 2131 §4.3.2: a NAK through a relay asks it to broadcast.
        if request.message.giaddr != .any { reply.broadcast = true }
        reply.options[.message] = Array("address not available".utf8)
        return .reply(finish(reply, request, network, isNAK: true))
    }

    // MARK: RFC 2131 §4.3.3 to §4.3.5

    mutating func decline(_ request: DHCPRequest, _ network: DHCPNetwork, serverID: IPv4Address, now: Date) -> DHCPDecision {
        guard let identifier = request.serverIdentifier, isOurs(identifier, network, serverID: serverID) else { return .drop(.otherServer) }
        guard let address = request.requestedAddress, network.subnet.contains(address), var table = tables.removeValue(forKey: network.name)
        else { return .drop(.unknownClient) }
        defer { tables[network.name] = table }
        let lease = table.quarantine(address, hardwareAddress: request.hardwareAddress, until: now.addingTimeInterval(quarantine.seconds))
        return .persist([lease])
    }

    mutating func release(_ request: DHCPRequest, _ network: DHCPNetwork, serverID: IPv4Address, now: Date) -> DHCPDecision {
        if let identifier = request.serverIdentifier, !isOurs(identifier, network, serverID: serverID) { return .drop(.otherServer) }
        // Taken out of the dictionary while it changes, so the change is in place rather than a copy of every lease.
        guard var table = tables.removeValue(forKey: network.name) else { return .drop(.noNetwork) }
        defer { tables[network.name] = table }
        let client = table.key(request.hardwareAddress, clientIdentifier: request.clientIdentifier)
        guard var lease = table.lease(for: client), lease.address == request.message.ciaddr, lease.state == .bound else {
            return .drop(.unknownClient)
        }
        lease.state = .released
        lease.expires = now
        table.record(lease)
        return .persist([lease])
    }

    func inform(_ request: DHCPRequest, _ network: DHCPNetwork, serverID: IPv4Address) -> DHCPDecision {
        // RFC 2131 §4.3.5: configuration only; no yiaddr, no lease time.
        var reply = makeReply(.ack, to: request, network, serverID: serverID)
        reply.ciaddr = request.message.ciaddr
        addConfigOptions(&reply, network, hostName: nil)
        addBootOptions(&reply, request, network, serverID: serverID)
        return .reply(finish(reply, request, network))
    }
}

extension Duration {
    var seconds: TimeInterval { TimeInterval(components.seconds) + TimeInterval(components.attoseconds) * 1e-18 }
}

extension DHCPResponder {
    /// Returns expired addresses to the pools; the bound leases that expired go to the store.
    public mutating func reclaim(now: Date) -> [DHCPLease] {
        var expired: [DHCPLease] = []
        for name in tables.keys { expired += tables[name]!.reclaim(now: now) }
        return expired
    }
}
