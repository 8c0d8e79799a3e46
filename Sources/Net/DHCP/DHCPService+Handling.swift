import CoreMetrics
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

extension DHCPService {
    /// What one socket's loop keeps between datagrams.
    struct LoopContext {
        let socket: Socket
        /// Interfaces with their own socket: the catch-all leaves their traffic to them.
        let named: Set<String>
        let outbound: NIOAsyncChannelOutboundWriter<Envelope>
        var interfaces = DHCPInterfaces.current()
        var throttle = DHCPLogThrottle()

        init(socket: Socket, named: Set<String>, outbound: NIOAsyncChannelOutboundWriter<Envelope>) {
            self.socket = socket
            self.named = named
            self.outbound = outbound
        }

        /// The interface a datagram came in on (IP_PKTINFO), refreshing the table for a new index.
        mutating func interface(_ index: Int?) -> DHCPInterfaces.Interface? {
            guard let index else { return nil }
            if let known = interfaces.byIndex[index] { return known }
            interfaces = DHCPInterfaces.current()
            return interfaces.byIndex[index]
        }
    }

    func handle(
        _ envelope: Envelope, core: DHCPCore, context: inout LoopContext, pending: inout ThrowingDiscardingTaskGroup<any Error>
    ) {
        let interface = context.interface(envelope.metadata?.packetInfo?.interfaceIndex)
        if context.socket.device == nil, !context.socket.isBootServer, let name = interface?.name, context.named.contains(name) { return }
        var buffer = envelope.data
        let request: DHCPRequest
        do {
            request = try DHCPRequest(DHCPMessage(parsing: &buffer))
        } catch {
            metrics.malformed.increment()
            let source = envelope.remoteAddress.ipAddress ?? "?"
            if context.throttle.allow(source, now: .now) {
                logger.warning("dhcp: dropped malformed datagram (further ones from this source are only counted for a minute)",
                    metadata: ["source": "\(envelope.remoteAddress)", "error": "\(error)"])
            }
            return
        }
        metrics.received(request.type)
        let link = DHCPLink(
            interface: context.socket.device ?? interface?.name, addresses: interface?.addresses ?? [], isBootServer: context.socket.isBootServer)
        let decision = core.state.withLock { $0.handle(request, on: link, now: Date()) }
        let exchange = DHCPExchangeEvent(
            outcome: .handled, request: request.type, hardwareAddress: request.message.hardwareAddress, xid: request.message.xid,
            requestedAddress: request.requestedAddress ?? (request.message.ciaddr == .any ? nil : request.message.ciaddr),
            vendorClass: request.vendorClass, architecture: request.architectures.first)
        switch decision {
        case .drop(let reason):
            metrics.dropped(reason)
            events.record(exchange.dropped(reason.rawValue))
        case .reply(let reply):
            let outbound = context.outbound
            let target = destination(reply, from: envelope, interface: link.interface, bound: context.socket.device)
            pending.addTask { await send(reply, to: target, outbound: outbound, for: exchange) }
        case .persistThenReply(let changed, let reply):
            let outbound = context.outbound
            let target = destination(reply, from: envelope, interface: link.interface, bound: context.socket.device)
            pending.addTask {
                guard await persist(changed) else { return events.record(exchange.dropped("lease_not_stored")) }
                await send(reply, to: target, outbound: outbound, for: exchange)
            }
        case .persist(let changed):
            pending.addTask {
                let stored = await persist(changed)
                events.record(stored ? exchange : exchange.dropped("lease_not_stored"))
            }
        }
    }

    /// False when the store failed: the ACK must not go out for a lease that is not durable.
    func persist(_ changed: [DHCPLease]) async -> Bool {
        do {
            try await leases.persist(changed)
            metrics.persisted.increment(by: Int64(changed.count))
            return true
        } catch {
            metrics.persistFailures.increment()
            logger.error("dhcp: lease not stored, reply withheld: \(error)")
            return false
        }
    }

    /// Sends `reply`, then records the exchange it ends.
    func send(_ reply: DHCPReply, to target: SocketAddress?, outbound: NIOAsyncChannelOutboundWriter<Envelope>, for exchange: DHCPExchangeEvent) async {
        guard let target else { return events.record(exchange.dropped("no_route")) }
        do {
            try await outbound.write(Envelope(remoteAddress: target, data: reply.message.bytes(maxSize: reply.maxSize)))
            metrics.sent(reply.message.messageType ?? .ack)
            var replied = exchange
            replied.outcome = .replied
            replied.reply = reply.message.messageType ?? .ack
            replied.address = reply.message.yiaddr == .any ? nil : reply.message.yiaddr
            replied.detail = DHCPMessage.cString(reply.message.file).map { $0.filter { $0 != "\"" } }
            events.record(replied)
        } catch {
            metrics.sendFailures.increment()
            logger.debug("dhcp: send failed: \(error)", metadata: ["to": "\(target)"])
            events.record(exchange.dropped("send_failed"))
        }
    }

    /// RFC 2131 §4.1 made concrete: ports, and how a client without an address is reached.
    func destination(_ reply: DHCPReply, from envelope: Envelope, interface: String?, bound: String?) -> SocketAddress? {
        let client = configuration.clientPort
        let address: IPv4Address
        let port: Int
        switch reply.destination {
        case .relay(let relay): (address, port) = (relay, configuration.serverPort)
        case .unicast(let unicast): (address, port) = (unicast, client)
        case .source: return envelope.remoteAddress
        case .hardware(let yiaddr, let hardware):
            if let interface, DHCPARP.set(yiaddr, hardware, interface: interface) {
                (address, port) = (yiaddr, client)
            } else {
                (address, port) = (bound != nil ? .broadcast : reply.subnetBroadcast, client)
            }
        case .broadcast:
            // Without a bound device the limited broadcast has no route; the subnet's broadcast has one.
            (address, port) = (bound != nil ? .broadcast : reply.subnetBroadcast, client)
        }
        return try? SocketAddress(ipAddress: "\(address)", port: port)
    }
}
