import CoreMetrics
import NIOCore

/// Runs one `TFTPTransfer` on the channel bound to its own port (the server's TID, RFC 1350 §4).
///
/// The transfer lives in this handler on the channel's event loop: packets and timers reach it without a
/// hop, which is what lock-step transfers need to keep pace with the client.
final class TFTPTransferHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// Sent through the pipeline by the service at shutdown: the client gets ERROR 0, then the channel closes.
    struct Shutdown: Sendable {}

    private var transfer: TFTPTransfer
    private let content: TFTPFileContent
    private let client: SocketAddress
    private let file: String
    private let events: any TFTPEventSink
    private let metrics: TFTPMetrics
    private let started: ContinuousClock.Instant
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var bytesSent = 0
    private var reported = false

    init(
        transfer: TFTPTransfer, content: TFTPFileContent, client: SocketAddress, file: String,
        events: any TFTPEventSink, metrics: TFTPMetrics
    ) {
        self.transfer = transfer
        self.content = content
        self.client = client
        self.file = file
        self.events = events
        self.metrics = metrics
        self.started = .now
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelActive(context: ChannelHandlerContext) {
        run(.start)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == client else {
            // RFC 1350 §4: a stranger gets ERROR 5 and the transfer carries on undisturbed.
            metrics.wrongTID.increment()
            send(.error(code: .unknownTransferID, message: "Unknown transfer ID"), to: envelope.remoteAddress)
            context.flush()
            return
        }
        var buffer = envelope.data
        guard let packet = try? TFTPPacket(parsing: &buffer) else {
            metrics.malformed.increment()
            return
        }
        switch packet {
        case .ack(let block): run(.ack(block: block))
        case .error(let code, let message): run(.error(code: code, message: message))
        default: return
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Shutdown, !transfer.isFinished else { return context.fireUserInboundEventTriggered(event) }
        abort("server shutting down", message: "Server shutting down")
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        report(.failed(.aborted("channel closed")))
        context.fireChannelInactive()
    }

    private func run(_ input: TFTPTransfer.Input) {
        perform(transfer.handle(input, now: .now))
    }

    private func perform(_ actions: [TFTPTransferAction]) {
        guard let context else { return }
        for action in actions {
            switch action {
            case .send(let packet):
                send(packet, to: client)
            case .sendData(let blocks):
                for block in blocks {
                    do {
                        try sendData(block, context: context)
                    } catch {
                        return abort("read failed: \(error)", message: "Read error")
                    }
                }
            case .scheduleTimer(let id, let delay):
                timer?.cancel()
                timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) { [weak self] in
                    self?.run(.timerFired(id))
                }
            case .finish(let result):
                context.flush()
                finish(result == .completed ? .completed : .failed(Self.failure(result)))
                return
            }
        }
        context.flush()
    }

    private func sendData(_ block: UInt64, context: ChannelHandlerContext) throws(TFTPFileError) {
        let range = transfer.byteRange(ofBlock: block)
        var buffer = context.channel.allocator.buffer(capacity: 4 + range.count)
        buffer.writeInteger(TFTPOpcode.data.rawValue)
        buffer.writeInteger(TFTPTransfer.wireNumber(block))
        switch content {
        case .memory(let bytes):
            buffer.writeImmutableBuffer(bytes.getSlice(at: bytes.readerIndex + range.lowerBound, length: range.count)!)
        case .file(let file):
            try file.read(range, into: &buffer)
        }
        bytesSent += range.count
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: buffer)), promise: nil)
    }

    private func send(_ packet: TFTPPacket, to address: SocketAddress) {
        guard let context else { return }
        let bytes = packet.bytes(allocator: context.channel.allocator)
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: address, data: bytes)), promise: nil)
    }

    /// Ends the transfer from the server's side: ERROR 0 to the client, then close.
    private func abort(_ why: String, message: String) {
        send(.error(code: .notDefined, message: message), to: client)
        context?.flush()
        finish(.failed(.aborted(why)))
    }

    private func finish(_ outcome: TFTPTransferEvent.Outcome) {
        timer?.cancel()
        report(outcome)
        context?.close(promise: nil)
    }

    private func report(_ outcome: TFTPTransferEvent.Outcome) {
        guard !reported else { return }
        reported = true
        if outcome == .completed { metrics.transfersOK.increment() } else { metrics.transfersFailed.increment() }
        metrics.bytesSent.increment(by: Int64(bytesSent))
        metrics.retransmissions.increment(by: Int64(transfer.retransmissions))
        events.record(
            TFTPTransferEvent(
                file: file, client: client, outcome: outcome, size: transfer.size,
                blockSize: transfer.negotiation.blockSize, windowSize: transfer.negotiation.windowSize,
                bytesSent: bytesSent, retransmissions: transfer.retransmissions, duration: .now - started))
    }

    private static func failure(_ result: TFTPTransferResult) -> TFTPTransferFailure {
        if case .failed(let failure) = result { return failure }
        return .aborted("unknown")
    }
}
