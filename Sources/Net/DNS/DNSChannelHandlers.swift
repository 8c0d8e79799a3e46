import CoreMetrics
import NIOCore

/// Asks the upstream resolvers over the transport the client used; nil when none answered in time.
typealias DNSForwardFunction = @Sendable (DNSMessage, DNSTransport) async -> ByteBuffer?

/// The UDP side: each datagram is answered on the event loop that read it, with no task or actor hop,
/// because this is the path the throughput target is measured on (see docs/PERFORMANCE.md). Only
/// forwarded queries leave the loop.
final class DNSUDPHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let answerer: DNSAnswerer
    let forward: DNSForwardFunction?
    private var pendingFlush = false

    init(answerer: DNSAnswerer, forward: DNSForwardFunction?) {
        self.answerer = answerer
        self.forward = forward
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let client = envelope.remoteAddress
        switch answerer.answer(envelope.data.readableBytesView, transport: .udp, client: client.ipAddress ?? "", allocator: context.channel.allocator) {
        case .none: return
        case .send(let buffers):
            for buffer in buffers {
                context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: buffer)), promise: nil)
            }
            pendingFlush = true
        case .forward(let query):
            guard let forward else { return }
            let channel = context.channel
            let answerer = self.answerer
            Task {
                let reply = await forward(query, .udp) ?? answerer.serverFailure(query)
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: client, data: reply), promise: nil)
            }
        }
    }

    // One flush per read burst: with vector reads that is one sendmmsg for up to 32 answers.
    func channelReadComplete(context: ChannelHandlerContext) {
        if pendingFlush {
            pendingFlush = false
            context.flush()
        }
    }
}

/// The TCP side (RFC 7766): length-framed messages, answered in order as they come (pipelining), the
/// connection closed after `idleTimeout` with nothing read.
final class DNSTCPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let answerer: DNSAnswerer
    let forward: DNSForwardFunction?

    init(answerer: DNSAnswerer, forward: DNSForwardFunction?) {
        self.answerer = answerer
        self.forward = forward
    }

    func channelActive(context: ChannelHandlerContext) {
        answerer.metrics.tcpConnections.increment()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch answerer.answer(frame.readableBytesView, transport: .tcp, client: context.remoteAddress?.ipAddress ?? "", allocator: context.channel.allocator) {
        case .none:
            // Garbage on a stream leaves nothing to resynchronise on.
            context.close(promise: nil)
        case .send(let buffers):
            for buffer in buffers { context.write(wrapOutboundOut(framed(buffer)), promise: nil) }
            context.flush()
        case .forward(let query):
            guard let forward else { return }
            let channel = context.channel
            let answerer = self.answerer
            Task {
                let reply = await forward(query, .tcp) ?? answerer.serverFailure(query)
                channel.writeAndFlush(framed(reply), promise: nil)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            answerer.metrics.tcpIdleClosed.increment()
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A message with its 16-bit length in front (RFC 1035 §4.2.2).
func framed(_ message: ByteBuffer) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.reserveCapacity(message.readableBytes + 2)
    buffer.writeInteger(UInt16(message.readableBytes))
    var message = message
    buffer.writeBuffer(&message)
    return buffer
}
