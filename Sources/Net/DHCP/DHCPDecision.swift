/// What the responder decided about one request; the adapter carries it out.
public enum DHCPDecision: Sendable, Hashable {
    /// Send a reply that changes nothing durable (OFFER, INFORM's ACK, NAK, proxyDHCP answers).
    case reply(DHCPReply)
    /// Make the leases durable, then send the reply (ACK): a lease is on disk before the client hears of it.
    case persistThenReply([DHCPLease], DHCPReply)
    /// Make the leases durable; nothing is sent (RELEASE, DECLINE).
    case persist([DHCPLease])
    /// Say nothing.
    case drop(DHCPDropReason)
}

/// A reply and where it goes.
public struct DHCPReply: Sendable, Hashable {
    public var message: DHCPMessage
    public var destination: DHCPDestination
    /// The largest message the client takes (option 57 less IP and UDP headers; 548 when it did not say).
    public var maxSize: Int
    /// The network's directed broadcast, for a broadcast that cannot go out a known interface.
    public var subnetBroadcast: IPv4Address

    public init(message: DHCPMessage, destination: DHCPDestination, maxSize: Int, subnetBroadcast: IPv4Address = .broadcast) {
        self.message = message
        self.destination = destination
        self.maxSize = maxSize
        self.subnetBroadcast = subnetBroadcast
    }
}

/// Why nothing was sent; each is a label of `dhcp_dropped_total{reason}`.
public enum DHCPDropReason: String, Sendable, Hashable, CaseIterable {
    /// No configured network matches the interface, giaddr or link selection.
    case noNetwork = "no_network"
    /// The network's mode is `off`.
    case networkOff = "network_off"
    /// A `reservations` network and a MAC without a reservation.
    case notReserved = "not_reserved"
    /// A `proxy` network and a client that is not PXE, or a message proxyDHCP does not answer.
    case notNetbootClient = "not_netboot"
    /// The pool has no free address.
    case poolExhausted = "pool_exhausted"
    /// A REQUEST or RELEASE for another server (RFC 2131 §4.3.2: the client chose someone else).
    case otherServer = "other_server"
    /// INIT-REBOOT for a client we have no record of: RFC 2131 §4.3.2 says stay silent.
    case unknownClient = "unknown_client"
    /// A message type a server never answers (OFFER, ACK, … sent to us) or does not know.
    case unsupportedType = "unsupported_type"
    /// A server address could not be determined for the network (no `address`, none on the interface).
    case noServerAddress = "no_server_address"
}

/// Where a reply goes (RFC 2131 §4.1).
public enum DHCPDestination: Sendable, Hashable {
    /// To the relay at giaddr, server port 67.
    case relay(IPv4Address)
    /// To the client's own address, client port 68.
    case unicast(IPv4Address)
    /// To 255.255.255.255, client port 68, on the interface the request came in.
    case broadcast
    /// To the offered address at the client's hardware address, port 68: the client has no address yet
    /// and can take unicast, so it needs an ARP entry rather than a broadcast.
    case hardware(IPv4Address, HardwareAddress)
    /// Back to the request's source address and port (the PXE boot server on port 4011).
    case source

    /// RFC 2131 §4.1, "If the 'giaddr' field … is nonzero …" through "… to the client hardware address and 'yiaddr'".
    public static func of(request: DHCPMessage, reply: DHCPMessage, isNAK: Bool) -> DHCPDestination {
        if request.giaddr != .any { return .relay(request.giaddr) }
        if isNAK { return .broadcast }
        if request.ciaddr != .any { return .unicast(request.ciaddr) }
        if request.broadcast || reply.yiaddr == .any { return .broadcast }
        return .hardware(reply.yiaddr, request.hardwareAddress)
    }
}
