import CoreMetrics
import NIOCore

/// Runs one `TFTPReceive` (an upload) on the channel bound to its own port, like `TFTPTransferHandler`
/// does for reads: DATA and timers reach the state machine on the channel's event loop without a hop.
///
/// Writes go to the page cache and rarely wait; the file only takes its name at the commit.
final class TFTPReceiveHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private var receive: TFTPReceive
    private let upload: TFTPUpload
    private var decoder: TFTPNetasciiDecoder?
    private let client: SocketAddress
    private let file: String
    private let events: any TFTPEventSink
    private let metrics: TFTPMetrics
    private let started: NIODeadline
    private var context: ChannelHandlerContext?
    private var timer: TFTPRetransmitTimer?
    private var reported = false

    init(
        receive: TFTPReceive, upload: TFTPUpload, mode: TFTPMode, client: SocketAddress, file: String,
        events: any TFTPEventSink, metrics: TFTPMetrics
    ) {
        self.receive = receive
        self.upload = upload
        self.decoder = mode == .netascii ? TFTPNetasciiDecoder() : nil
        self.client = client
        self.file = file
        self.events = events
        self.metrics = metrics
        self.started = .now()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        timer = TFTPRetransmitTimer(loop: context.eventLoop) { [weak self] id in self?.run(.timerFired(id)) }
    }

    func channelActive(context: ChannelHandlerContext) {
        run(.start)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let rejected = { (stranger: SocketAddress) in
            self.send(.error(code: .unknownTransferID, message: "Unknown transfer ID"), to: stranger)
            context.flush()
        }
        guard let packet = TFTPTransferPeer.packet(in: unwrapInboundIn(data), from: client, metrics: metrics, rejectStranger: rejected)
        else { return }
        switch packet {
        case .data(let block, let payload): run(.data(block: block, payload: payload))
        case .error(let code, let message): run(.error(code: code, message: message))
        default: return
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is TFTPTransferHandler.Shutdown else { return context.fireUserInboundEventTriggered(event) }
        // A complete upload only lingers for a lost final ACK: close it quietly.
        guard !receive.isFinished else { return finish(.completed) }
        fail(.aborted("server shutting down"), error: .error(code: .notDefined, message: "Server shutting down"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if !reported { upload.discard() }
        report(.failed(.aborted("channel closed")))
        context.fireChannelInactive()
    }

    private func run(_ input: TFTPReceive.Input) {
        guard let context else { return }
        for action in receive.handle(input, now: .now()) {
            switch action {
            case .send(let packet):
                send(packet, to: client)
            case .write(let bytes):
                do {
                    try upload.write(decoder?.decode(bytes) ?? bytes)
                } catch {
                    return fail(.aborted("\(error)"), error: .error(code: error.code, message: error.message))
                }
            case .commit(let ack):
                do {
                    if var tail = decoder?.finish(), tail.readableBytes > 0 { try upload.write(tail.readSlice(length: 1)!) }
                    try upload.commit()
                } catch {
                    return fail(.aborted("\(error)"), error: .error(code: error.code, message: error.message))
                }
                send(ack, to: client)
                // Complete now; the channel lingers until the state machine's dally ends.
                report(.completed)
            case .scheduleTimer(let id, let delay):
                timer?.schedule(id, after: delay)
            case .finish(let result):
                if case .failed(let failure) = result { finish(.failed(failure)) } else { finish(.completed) }
                return
            }
        }
        context.flush()
    }

    private func send(_ packet: TFTPPacket, to address: SocketAddress) {
        guard let context else { return }
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: address, data: packet.bytes(allocator: context.channel.allocator))), promise: nil)
    }

    private func fail(_ failure: TFTPTransferFailure, error: TFTPPacket) {
        send(error, to: client)
        finish(.failed(failure))
    }

    private func finish(_ outcome: TFTPTransferEvent.Outcome) {
        // A failed upload leaves nothing, and leaves it before the client hears the end.
        if outcome != .completed { upload.discard() }
        context?.flush()
        timer?.cancel()
        report(outcome)
        context?.close(promise: nil)
    }

    private func report(_ outcome: TFTPTransferEvent.Outcome) {
        guard !reported else { return }
        reported = true
        if outcome == .completed { metrics.transfersOK.increment() } else { metrics.transfersFailed.increment() }
        metrics.bytesReceived.increment(by: Int64(receive.bytesReceived))
        metrics.retransmissions.increment(by: Int64(receive.retransmissions))
        events.record(
            TFTPTransferEvent(
                file: file, client: client, outcome: outcome, direction: .write,
                size: outcome == .completed ? receive.bytesReceived : nil, blockSize: receive.negotiation.blockSize,
                windowSize: receive.negotiation.windowSize, bytesSent: receive.bytesReceived,
                retransmissions: receive.retransmissions, duration: Duration(.now() - started)))
    }
}
