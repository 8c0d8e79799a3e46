import Logging
import NIOCore
import NIOPosix

/// Relays a query to the upstream resolvers in turn, each on a fresh socket with a random ID (so a
/// spoofed answer has to guess both), and returns the first answer with the client's ID put back.
///
/// The query goes upstream over the transport the client used, as dnsmasq does: an answer too big for
/// the client's UDP size comes back truncated (TC), the client asks again over TCP, and that question is
/// relayed over TCP, so the whole answer reaches it.
struct DNSForwarder: Sendable {
    let upstreams: [ListenAddress]
    let timeout: TimeAmount
    let group: any EventLoopGroup
    let logger: Logger

    func forward(_ query: DNSMessage, over transport: DNSTransport) async -> ByteBuffer? {
        var outgoing = query
        outgoing.header.id = UInt16.random(in: 0...UInt16.max)
        for upstream in upstreams {
            do {
                let address = try SocketAddress.makeAddressResolvingHost(upstream.host, port: upstream.port)
                let answer = try await transport == .tcp ? exchangeOverTCP(outgoing, with: address) : exchangeOverUDP(outgoing, with: address)
                if var reply = answer {
                    reply.setInteger(query.header.id, at: reply.readerIndex)
                    // Relayed, the answer is no longer authoritative, and recursion was available (RFC 1035 §4.1.1).
                    if let flags = reply.getInteger(at: reply.readerIndex + 2, as: UInt16.self) {
                        reply.setInteger(flags & ~0x0400 | 0x0080, at: reply.readerIndex + 2)
                    }
                    return reply
                }
            } catch {
                logger.debug("dns: upstream \(upstream) failed over \(transport): \(error)")
            }
        }
        return nil
    }

    private func exchangeOverUDP(_ query: DNSMessage, with address: SocketAddress) async throws -> ByteBuffer? {
        typealias Envelope = AddressedEnvelope<ByteBuffer>
        let channel = try await DatagramBootstrap(group: group)
            .bind(host: address.protocol == .inet6 ? "::" : "0.0.0.0", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<Envelope, Envelope>(wrappingChannelSynchronously: channel) }
            }
        let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
        defer { deadline.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(Envelope(remoteAddress: address, data: query.bytes(maxSize: 512)))
            for try await envelope in inbound where envelope.remoteAddress == address {
                // Only the answer to this question, with this ID (RFC 5452 §9.1).
                guard Self.answers(query, envelope.data) else { continue }
                return envelope.data
            }
            return nil
        }
    }

    private func exchangeOverTCP(_ query: DNSMessage, with address: SocketAddress) async throws -> ByteBuffer? {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .connect(to: address) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
        defer { deadline.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(framed(query.bytes()))
            for try await frame in inbound where Self.answers(query, frame) { return frame }
            return nil
        }
    }

    private static func answers(_ query: DNSMessage, _ reply: ByteBuffer) -> Bool {
        reply.getInteger(at: reply.readerIndex, as: UInt16.self) == query.header.id
    }
}
