/// Building replies: the header copied from the request (RFC 2131 §4.3.1 table 3), the configured
/// options, the boot information, and the ordering and echoes every reply gets.
extension DHCPResponder {
    func makeReply(_ type: DHCPMessageType, to request: DHCPRequest, _ network: DHCPNetwork, serverID: IPv4Address) -> DHCPMessage {
        let message = request.message
        var reply = DHCPMessage(
            op: .reply, htype: message.htype, hlen: message.hlen, xid: message.xid, flags: message.flags, giaddr: message.giaddr,
            chaddr: message.chaddr)
        reply.options.set(.messageType(type))
        reply.options.set(.address(.serverIdentifier, serverID))
        return reply
    }

    /// Lease time with T1 at half and T2 at seven eighths (RFC 2131 §4.4.5), then the configuration.
    func addLeaseOptions(_ reply: inout DHCPMessage, _ network: DHCPNetwork, address: IPv4Address, hardware: HardwareAddress) {
        let seconds = UInt32(clamping: network.leaseTime.components.seconds)
        reply.options.set(.uint32(.leaseTime, seconds))
        reply.options.set(.uint32(.renewalTime, seconds / 2))
        reply.options.set(.uint32(.rebindingTime, seconds / 8 * 7))
        addConfigOptions(&reply, network, hostName: network.reservation(for: hardware)?.hostName)
    }

    func addConfigOptions(_ reply: inout DHCPMessage, _ network: DHCPNetwork, hostName: String?) {
        reply.options.set(.address(.subnetMask, network.subnet.mask))
        if let router = network.router { reply.options.set(.addresses(.router, [router])) }
        if !network.dnsServers.isEmpty { reply.options.set(.addresses(.domainNameServers, network.dnsServers)) }
        if let domain = network.domain { reply.options.set(.text(.domainName, domain)) }
        if let hostName { reply.options.set(.text(.hostName, hostName)) }
        reply.options.set(.address(.broadcastAddress, network.subnet.broadcast))
    }

    /// The boot file for a network-boot client, or nil for anyone else (RFC 4578, PXE 2.1, UEFI 2.x §24.7).
    public func bootFile(for request: DHCPRequest, _ network: DHCPNetwork, serverID: IPv4Address) -> (name: String, isURL: Bool)? {
        // iPXE gets its script, never iPXE again: that is the chainloading loop.
        if request.isIPXE {
            let port = network.boot.httpPort == 80 ? "" : ":\(network.boot.httpPort)"
            let base = network.boot.httpBase ?? "http://\(serverID)\(port)"
            // Dashes, not colons: iPXE percent-encodes a colon in a path, and a colon before the first
            // slash would make the script's relative `chain` URL look like a scheme.
            let mac = String("\(request.hardwareAddress)".map { $0 == ":" ? "-" : $0 })
            return ("\(base)/boot/\(mac).ipxe", true)
        }
        guard request.isNetbootClient else { return nil }
        if request.isHTTPBootClient { return network.boot.uefiHTTP.map { ($0, true) } }
        switch request.architectures.first?.rawValue ?? 0 {
        case 0: return (network.boot.bios, false)
        case 7, 9: return (network.boot.uefiX64, false)
        case 11: return (network.boot.uefiARM64, false)
        default: return nil
        }
    }

    /// siaddr, `file`, 66 and 67 all name the same boot file and server, so the firmware finds it whichever it reads.
    func addBootOptions(_ reply: inout DHCPMessage, _ request: DHCPRequest, _ network: DHCPNetwork, serverID: IPv4Address) {
        guard let boot = bootFile(for: request, network, serverID: serverID) else { return }
        reply.siaddr = serverID
        let name = Array(boot.name.utf8)
        if name.count < 128 { reply.file = DHCPMessage.fixed(name, 128) }
        if !boot.isURL { reply.options.set(.text(.tftpServerName, "\(serverID)")) }
        reply.options.set(DHCPOption(.bootfileName, name))
        // PXE 2.1 §2.5 and UEFI HTTP boot: the reply names the class it answers, or the firmware ignores it.
        if request.isHTTPBootClient {
            reply.options.set(.text(.vendorClass, "HTTPClient"))
        } else if request.isNetbootClient {
            reply.options.set(.text(.vendorClass, "PXEClient"))
        }
        if let uuid = request.clientUUID { reply.options[.clientMachineIdentifier] = uuid }
    }

    /// Echoes 82 (RFC 3046 §2.2) and 61 (RFC 6842), orders by the client's list (RFC 2132 §9.8), and addresses it.
    func finish(_ reply: DHCPMessage, _ request: DHCPRequest, _ network: DHCPNetwork, isNAK: Bool = false, toSource: Bool = false) -> DHCPReply {
        var reply = reply
        if let clientID = request.clientIdentifier { reply.options[.clientIdentifier] = clientID }
        if let relay = request.message.options[.relayAgentInformation] { reply.options[.relayAgentInformation] = relay }
        reply.options.order(by: request.message.options.parameterRequestList)
        let destination = toSource ? .source : DHCPDestination.of(request: request.message, reply: reply, isNAK: isNAK)
        // Less the IP (20) and UDP (8) headers: option 57 counts the whole datagram.
        let maxSize = (request.maxMessageSize ?? DHCPMessage.minimumMaxSize) - 28
        return DHCPReply(message: reply, destination: destination, maxSize: maxSize, subnetBroadcast: network.subnet.broadcast)
    }

    // MARK: proxyDHCP and the boot server (PXE 2.1 §2.2.5)

    /// proxyDHCP on port 67 answers a PXE DISCOVER with boot information and no address; the boot server
    /// on port 4011 answers the REQUEST some firmware sends there before it loads anything.
    func proxy(_ request: DHCPRequest, _ network: DHCPNetwork, serverID: IPv4Address, link: DHCPLink) -> DHCPDecision {
        guard request.isNetbootClient || request.isIPXE else { return .drop(.notNetbootClient) }
        let type: DHCPMessageType
        switch (request.type, link.isBootServer) {
        case (.discover, false): type = .offer
        case (.request, true), (.inform, true): type = .ack
        // A REQUEST on port 67 is the client taking the real server's address: not ours to answer.
        default: return .drop(.notNetbootClient)
        }
        var reply = makeReply(type, to: request, network, serverID: serverID)
        reply.ciaddr = request.message.ciaddr
        addBootOptions(&reply, request, network, serverID: serverID)
        guard reply.siaddr != .any else { return .drop(.notNetbootClient) }
        if request.isNetbootClient && !request.isHTTPBootClient {
            // Vendor options, sub-option 6 PXE_DISCOVERY_CONTROL = 8: boot the file in this reply, no
            // boot server discovery (what dnsmasq and pixiecore send).
            reply.options[.vendorSpecific] = [6, 1, 8, 255]
        }
        return .reply(finish(reply, request, network, toSource: link.isBootServer))
    }
}
