import FuzzDriver
import NIOCore
import Net

/// One fuzz input: parse → write → parse must be the identity and never trap; the in-place ACK reader
/// must agree with the parser; requests also go through option negotiation, the path rules and the
/// responder (uploads on and off), and DATA through an upload.
func check(_ datagram: ByteBuffer) {
    var buffer = datagram
    let parsed = try? TFTPPacket(parsing: &buffer)
    let acknowledged = datagram.withUnsafeReadableBytes { TFTPPacket.acknowledgedBlock(in: $0) }
    if case .ack(let block)? = parsed { precondition(acknowledged == block) } else { precondition(acknowledged == nil) }
    guard let packet = parsed else { return }
    var written = packet.bytes()
    guard let again = try? TFTPPacket(parsing: &written), again == packet else {
        fatalError("round trip changed \(packet)")
    }
    if case .readRequest(let request) = packet {
        let negotiation = TFTPNegotiation(requested: request.options, limits: TFTPLimits(), size: datagram.readableBytes)
        precondition((8...65464).contains(negotiation.blockSize) && (1...65535).contains(negotiation.windowSize))
        _ = try? TFTPPath.validate(request.filename)
        var responder = TFTPResponder()
        _ = responder.handle(datagram, from: "fuzz", now: .now())
    }
    if case .writeRequest(let request) = packet {
        var responder = TFTPResponder(acceptsWrites: true)
        _ = responder.handle(datagram, from: "fuzz", now: .now())
        let limits = TFTPLimits()
        var receive = TFTPReceive(negotiation: TFTPNegotiation(requested: request.options, limits: limits, size: 0), limits: limits, maxSize: 1 << 20)
        _ = receive.handle(.start, now: .now())
    }
    if case .data(let block, let payload) = packet {
        // An upload fed this block out of nowhere, then as the one it expects.
        let limits = TFTPLimits()
        var receive = TFTPReceive(negotiation: TFTPNegotiation(requested: ["blksize": "8", "windowsize": "4"], limits: limits, size: 0), limits: limits, maxSize: 64)
        _ = receive.handle(.start, now: .now())
        _ = receive.handle(.data(block: block, payload: payload), now: .now())
        _ = receive.handle(.data(block: 1, payload: payload), now: .now())
        precondition(receive.bytesReceived <= 64)
    }
}

@main
enum TFTPFuzz {
    static func main() throws { try FuzzDriver.run { check(ByteBuffer(bytes: $0)) } }
}
