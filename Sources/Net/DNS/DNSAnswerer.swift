import CoreMetrics
import NIOCore

/// What the UDP and TCP adapters share: run the responder on a query's bytes, count, and write the
/// answer. Synchronous, so it runs on the channel's event loop with no hop.
struct DNSAnswerer: Sendable {
    let state: DNSResponderState
    let metrics: DNSMetrics

    enum Outcome {
        /// Messages to send, in order, each already written.
        case send([ByteBuffer])
        /// A query for the upstream resolvers.
        case forward(DNSMessage)
        case none
    }

    /// `client` is the peer's address as text, asked for only by a zone transfer's allow-list check.
    func answer(_ bytes: ByteBufferView, transport: DNSTransport, client: @autoclosure () -> String, allocator: ByteBufferAllocator) -> Outcome {
        metrics.query(transport)
        switch state.responder.respond(to: Array(bytes), transport: transport, client: client()) {
        case .drop:
            metrics.malformedDropped.increment()
            return .none
        case .reply(let message, let maxSize):
            var buffer = allocator.buffer(capacity: min(maxSize, 512))
            message.write(into: &buffer, maxSize: maxSize)
            metrics.response(message, truncated: buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self).map { $0 & 0x0200 != 0 } ?? false)
            return .send([buffer])
        case .transfer(let messages):
            metrics.transfers.increment()
            return .send(messages.map { $0.bytes() })
        case .forward(let query):
            metrics.forwarded.increment()
            return .forward(query)
        }
    }

    /// SERVFAIL for a forwarded query no upstream answered.
    func serverFailure(_ query: DNSMessage) -> ByteBuffer {
        var response = DNSResponder.reply(to: query, rcode: .servFail)
        response.header.recursionAvailable = true
        metrics.forwardFailed.increment()
        metrics.response(response, truncated: false)
        return response.bytes(maxSize: 512)
    }
}
