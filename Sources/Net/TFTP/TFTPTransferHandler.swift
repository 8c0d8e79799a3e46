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
    private var reader: TFTPBlockReader
    private let client: SocketAddress
    private let file: String
    private let events: any TFTPEventSink
    private let metrics: TFTPMetrics
    private let started: NIODeadline
    /// The GSO segment size the channel was opened with (`4 + blksize`), or nil: one write per datagram.
    private let segmentSize: Int?
    private var context: ChannelHandlerContext?
    private var timer: TFTPRetransmitTimer?
    private var bytesSent = 0
    private var reported = false

    init(
        transfer: TFTPTransfer, content: TFTPFileContent, client: SocketAddress, file: String,
        events: any TFTPEventSink, metrics: TFTPMetrics, segmentSize: Int? = nil
    ) {
        self.segmentSize = segmentSize
        self.transfer = transfer
        self.reader = TFTPBlockReader(content: content)
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
        perform(transfer.handle(input, now: .now()))
    }

    private func perform(_ actions: [TFTPTransferAction]) {
        guard let context else { return }
        for action in actions {
            switch action {
            case .send(let packet):
                send(packet, to: client)
            case .sendData(let blocks):
                do {
                    try sendData(blocks, context: context)
                } catch {
                    return abort("read failed: \(error)", message: "Read error")
                }
            case .scheduleTimer(let id, let delay):
                timer?.schedule(id, after: delay)
            case .finish(let result):
                context.flush()
                finish(TFTPTransferEvent.Outcome(result))
                return
            }
        }
        context.flush()
    }

    /// DATA for `blocks`: one datagram each, or with `segmentSize` set (windows, on Linux), runs of full
    /// blocks packed back to back into one write that the kernel cuts into datagrams (UDP GSO), so a
    /// window costs one trip through the network stack instead of one per block.
    private func sendData(_ blocks: ClosedRange<UInt64>, context: ChannelHandlerContext) throws(TFTPFileError) {
        let datagram = 4 + transfer.negotiation.blockSize
        guard segmentSize != nil, blocks.count > 1 else {
            for block in blocks {
                var buffer = context.channel.allocator.buffer(capacity: datagram)
                try appendData(block, to: &buffer)
                context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: buffer)), promise: nil)
            }
            return
        }
        let perWrite = max(1, min(Self.maxSegments, Self.maxSegmentedBytes / datagram))
        var buffer = context.channel.allocator.buffer(capacity: min(blocks.count, perWrite) * datagram)
        var packed = 0
        for block in blocks {
            try appendData(block, to: &buffer)
            packed += 1
            // Only the last segment of a write may be short, and a short block is the file's last.
            if packed == perWrite || block == blocks.upperBound || transfer.byteRange(ofBlock: block).count < transfer.negotiation.blockSize {
                context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: buffer)), promise: nil)
                buffer = context.channel.allocator.buffer(capacity: min(Int(blocks.upperBound - block), perWrite) * datagram)
                packed = 0
            }
        }
    }

    /// Whether GSO can pack two or more DATA packets of `blockSize` into one write.
    static func packs(blockSize: Int) -> Bool { 2 * (4 + blockSize) <= maxSegmentedBytes }

    /// Segments per GSO write (the kernel's UDP_MAX_SEGMENTS is 64 before Linux 6.x) and bytes per write
    /// (one IPv4 datagram's worth, which the kernel also enforces).
    static let maxSegments = 64
    static let maxSegmentedBytes = 65_000

    /// Appends DATA `block` (header and payload) to `buffer`.
    private func appendData(_ block: UInt64, to buffer: inout ByteBuffer) throws(TFTPFileError) {
        bytesSent += try reader.appendData(block, of: transfer, to: &buffer)
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
        metrics.finished(transfer, file: file, client: client, outcome: outcome, bytesSent: bytesSent, started: started, events: events)
    }

}
