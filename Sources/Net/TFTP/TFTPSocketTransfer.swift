import CoreMetrics
import Foundation
import NIOCore
import Synchronization

/// Runs one read transfer on a blocking socket, on a thread of its own: every lock-step transfer, and
/// windows of blocks too large for GSO to pack two into a write (above 32,496 bytes), which here go out
/// one gathered `sendmsg` each instead of being copied into a packet buffer first.
///
/// Lock-step is a ping-pong: one DATA out, one ACK back, nothing to do in between. On a NIO channel each
/// block went through the selector, the pipeline and an envelope with its address, some 3 µs of
/// user-space work a block, which held Provision at 0.7-0.95x tftpd-hpa. Here a block costs one
/// `recvfrom` and one `sendmsg` (header and payload gathered in place, no packet buffer): the loop
/// tftpd-hpa runs, minus the `pselect`, file `read`, `fcntl`s and signal masking it does per block.
/// Windows of smaller blocks stay on the NIO handler, where they go out as GSO writes.
///
/// The socket is not connected, so a stranger's packet still arrives and gets ERROR 5 (RFC 1350 §4).
/// The receive timeout (SO_RCVTIMEO) stands in for the transfer's timer: it is set again when the timer
/// changes and as the time left shrinks, a few dozen times a timeout period, not once per block.
final class TFTPSocketTransfer: TFTPTransferHandle, Sendable {
    private let socket: TFTPDatagramSocket
    /// Whether `socket` is still open: `shutdown()` comes from another thread and must not touch a
    /// descriptor number the kernel may already have given to someone else.
    private let open = Mutex(true)
    private let stopping = Atomic<Bool>(false)
    private let done: EventLoopPromise<Void>

    var closeFuture: EventLoopFuture<Void> { done.futureResult }

    /// Binds the transfer's port (on `local`'s address, else any) and starts its thread, which sends the
    /// first packet.
    static func start(
        _ transfer: TFTPTransfer, content: TFTPFileContent, client: SocketAddress, local: SocketAddress, file: String,
        events: any TFTPEventSink, metrics: TFTPMetrics, loop: any EventLoop
    ) throws -> TFTPSocketTransfer {
        guard let socket = TFTPDatagramSocket.bound(to: TFTPSocketLoop.endpoint(local)) else {
            throw TFTPFileError.readFailed("cannot bind the transfer's port: \(String(cString: strerror(errno)))")
        }
        let running = TFTPSocketTransfer(socket: socket, done: loop.makePromise())
        let thread = Thread {
            var transferLoop = TFTPSocketLoop(
                socket: socket, transfer: transfer, content: content, client: client, file: file, events: events, metrics: metrics)
            transferLoop.run(stopping: running.stopping)
            running.close()
        }
        thread.stackSize = 256 << 10
        thread.name = "tftp-transfer"
        thread.start()
        return running
    }

    private init(socket: TFTPDatagramSocket, done: EventLoopPromise<Void>) {
        self.socket = socket
        self.done = done
    }

    func shutdown() {
        stopping.store(true, ordering: .relaxed)
        // Wakes the thread out of `recvfrom`; writing stays possible, for the ERROR that tells the client.
        open.withLock { isOpen in if isOpen { socket.shutdownReceiving() } }
    }

    private func close() {
        open.withLock { isOpen in
            socket.close()
            isOpen = false
        }
        done.succeed(())
    }
}

/// The transfer thread's loop and everything only it touches. A value on that thread's stack rather than
/// the handle's stored properties: Swift checks every access to a class's `var`s for exclusivity at run
/// time (a thread-local lookup each), 8% of the server's time per lock-step block when they lived there.
struct TFTPSocketLoop {
    private let socket: TFTPDatagramSocket
    private var transfer: TFTPTransfer
    private var reader: TFTPBlockReader
    private let client: SocketAddress
    private let clientEndpoint: TFTPDatagramSocket.Endpoint
    private let file: String
    private let events: any TFTPEventSink
    private let metrics: TFTPMetrics
    private let started = ContinuousClock.now
    private var timer: (id: TFTPTimerID, due: ContinuousClock.Instant)?
    /// Until when the socket's receive timeout can stay as it is; nil: set it before the next receive.
    private var receiveTimeoutHolds: ContinuousClock.Instant?
    private var inbound = ByteBufferAllocator().buffer(capacity: 2048)
    private var bytesSent = 0
    private var finished = false

    init(
        socket: TFTPDatagramSocket, transfer: TFTPTransfer, content: TFTPFileContent, client: SocketAddress, file: String,
        events: any TFTPEventSink, metrics: TFTPMetrics
    ) {
        self.socket = socket
        self.transfer = transfer
        self.reader = TFTPBlockReader(content: content)
        self.client = client
        self.clientEndpoint = Self.endpoint(client)
        self.file = file
        self.events = events
        self.metrics = metrics
    }

    /// Runs the transfer to its end; `stopping` is the handle's shutdown flag.
    /// The clock is read once per datagram: a block's work is a few microseconds, and every reading and
    /// `Duration` sum (128-bit arithmetic) showed in its profile.
    mutating func run(stopping: borrowing Atomic<Bool>) {
        var now = ContinuousClock.now
        perform(transfer.handle(.start, now: now), now: now)
        while !finished {
            if stopping.load(ordering: .relaxed) {
                abort("server shutting down", message: "Server shutting down")
                break
            }
            receive(stopping: stopping, now: &now)
            fireDueTimer(now: now)
        }
    }

    /// Waits for one datagram (or the receive timeout) and hands what it says to the transfer.
    private mutating func receive(stopping: borrowing Atomic<Bool>, now: inout ContinuousClock.Instant) {
        armReceiveTimeout(now: now)
        var from = TFTPDatagramSocket.Endpoint()
        var received = -1
        let socket = self.socket
        inbound.clear()
        inbound.writeWithUnsafeMutableBytes(minimumWritableBytes: 2048) { bytes in
            received = socket.receive(into: bytes, from: &from)
            return max(received, 0)
        }
        now = .now
        if received < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
            return abort("receive failed: \(String(cString: strerror(errno)))", message: "Receive error")
        }
        // A wake-up from `shutdown()` reads as an empty datagram with no sender.
        guard !stopping.load(ordering: .relaxed) else { return }
        guard from == clientEndpoint else {
            metrics.wrongTID.increment()
            return send(.error(code: .unknownTransferID, message: "Unknown transfer ID"), to: from)
        }
        guard let packet = try? TFTPPacket(parsing: &inbound) else { return metrics.malformed.increment() }
        switch packet {
        case .ack(let block): perform(transfer.handle(.ack(block: block), now: now), now: now)
        case .error(let code, let message): perform(transfer.handle(.error(code: code, message: message), now: now), now: now)
        default: return
        }
    }

    /// The timer's due time may pass while packets keep coming (a client repeating an old ACK), so it is
    /// checked after every datagram, not only when the receive times out.
    private mutating func fireDueTimer(now: ContinuousClock.Instant) {
        guard !finished, let due = timer, now >= due.due else { return }
        timer = nil
        perform(transfer.handle(.timerFired(due.id), now: now), now: now)
    }

    /// Sets SO_RCVTIMEO to the time left to the timer, and again only once a tenth of that has passed (or
    /// the timer changed): a receive started later wakes at most about 10% after the timer is due, and the
    /// timeout is set a few dozen times per timeout period, not once per block.
    private mutating func armReceiveTimeout(now: ContinuousClock.Instant) {
        if let holds = receiveTimeoutHolds, now < holds { return }
        let left = timer.map { max($0.due - now, .milliseconds(1)) } ?? .seconds(60)
        socket.setReceiveTimeout(left)
        receiveTimeoutHolds = now + left / 11
    }

    private mutating func perform(_ actions: [TFTPTransferAction], now: ContinuousClock.Instant) {
        for action in actions {
            switch action {
            case .send(let packet):
                send(packet, to: clientEndpoint)
            case .sendData(let blocks):
                do {
                    for block in blocks { try sendData(block) }
                    try reader.prefetch(blocks.upperBound + 1, of: transfer)
                } catch {
                    return abort("read failed: \(error)", message: "Read error")
                }
            case .scheduleTimer(let id, let delay):
                timer = (id, now + delay)
                receiveTimeoutHolds = nil
            case .finish(let result):
                return finish(TFTPTransferEvent.Outcome(result))
            }
        }
    }

    /// DATA `block`: the header and the payload gathered straight from memory or the read-ahead.
    private mutating func sendData(_ block: UInt64) throws(TFTPFileError) {
        let number = TFTPTransfer.wireNumber(block)
        let header = (UInt8(0), UInt8(TFTPOpcode.data.rawValue), UInt8(number >> 8), UInt8(number & 0xFF))
        let (socket, clientEndpoint) = (self.socket, self.clientEndpoint)
        bytesSent += try reader.withPayload(block, of: transfer) { payload in
            withUnsafeBytes(of: header) { socket.send($0, payload, to: clientEndpoint) }
            return payload.count
        }
    }

    private func send(_ packet: TFTPPacket, to endpoint: TFTPDatagramSocket.Endpoint) {
        packet.bytes(allocator: ByteBufferAllocator()).withUnsafeReadableBytes { socket.send($0, to: endpoint) }
    }

    static func endpoint(_ address: SocketAddress) -> TFTPDatagramSocket.Endpoint {
        address.withSockAddr { TFTPDatagramSocket.Endpoint(copying: $0, length: $1) }
    }

    /// Ends the transfer from the server's side: ERROR 0 to the client.
    private mutating func abort(_ why: String, message: String) {
        send(.error(code: .notDefined, message: message), to: clientEndpoint)
        finish(.failed(.aborted(why)))
    }

    private mutating func finish(_ outcome: TFTPTransferEvent.Outcome) {
        guard !finished else { return }
        finished = true
        metrics.finished(transfer, file: file, client: client, outcome: outcome, bytesSent: bytesSent, started: started, events: events)
    }
}

