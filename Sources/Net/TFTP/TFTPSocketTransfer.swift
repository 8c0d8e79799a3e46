import CoreMetrics
import Foundation
import NIOCore
import Synchronization

/// Runs one read transfer on blocking sockets, on a thread of its own: every lock-step transfer, and
/// windows of blocks too large for GSO to pack two into a write (above 32,496 bytes), which here go out
/// one gathered `sendmsg` each instead of being copied into a packet buffer first.
///
/// Lock-step is a ping-pong: one DATA out, one ACK back, nothing to do in between. On a NIO channel each
/// block went through the selector, the pipeline and an envelope with its address, some 3 µs of
/// user-space work a block, which held Provision at 0.7-0.95x tftpd-hpa. Here a block costs one `recv`
/// and one `sendmsg` (header and payload gathered in place, no packet buffer) on a socket connected to
/// the client: the loop tftpd-hpa runs, minus the `pselect`, file `read`, `fcntl`s and signal masking
/// it does per block. Windows of smaller blocks stay on the NIO handler, where they go out as GSO writes.
///
/// A second socket on the same port gets everyone else's datagrams, so a stranger still gets ERROR 5
/// (RFC 1350 §4); the loop answers them between blocks, at least every `strangersInterval`.
/// The receive timeout (SO_RCVTIMEO) stands in for the transfer's timer: it is set again when the timer
/// changes and as the time left shrinks, a few dozen times a timeout period, not once per block.
final class TFTPSocketTransfer: TFTPTransferHandle, Sendable {
    private let sockets: TFTPDatagramSocket.TransferPair
    /// Whether the sockets are still open: `shutdown()` comes from another thread and must not touch a
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
        guard let sockets = TFTPDatagramSocket.transferPair(local: TFTPSocketLoop.endpoint(local), client: TFTPSocketLoop.endpoint(client)) else {
            throw TFTPFileError.readFailed("cannot bind the transfer's port: \(String(cString: strerror(errno)))")
        }
        let running = TFTPSocketTransfer(sockets: sockets, done: loop.makePromise())
        let thread = Thread {
            var transferLoop = TFTPSocketLoop(
                sockets: sockets, transfer: transfer, content: content, client: client, file: file, events: events, metrics: metrics)
            transferLoop.run(stopping: running.stopping)
            running.close()
        }
        thread.stackSize = 256 << 10
        thread.name = "tftp-transfer"
        thread.start()
        return running
    }

    private init(sockets: TFTPDatagramSocket.TransferPair, done: EventLoopPromise<Void>) {
        self.sockets = sockets
        self.done = done
    }

    func shutdown() {
        stopping.store(true, ordering: .relaxed)
        // Wakes the thread out of `recv`; writing stays possible, for the ERROR that tells the client.
        open.withLock { isOpen in if isOpen { sockets.client.shutdownReceiving() } }
    }

    private func close() {
        open.withLock { isOpen in
            sockets.client.close()
            sockets.strangers.close()
            isOpen = false
        }
        done.succeed(())
    }
}

/// The transfer thread's loop and everything only it touches. A value on that thread's stack rather than
/// the handle's stored properties: Swift checks every access to a class's `var`s for exclusivity at run
/// time (a thread-local lookup each), 8% of the server's time per lock-step block when they lived there.
struct TFTPSocketLoop {
    /// How long a stranger may wait for its ERROR 5 (and how often an idle transfer wakes to answer).
    static let strangersInterval = TimeAmount.milliseconds(50)
    /// Strangers answered per look: a flood waits in (and overflows) the socket's buffer, not in memory.
    static let strangersPerLook = 64

    private let socket: TFTPDatagramSocket
    private let strangers: TFTPDatagramSocket
    private var transfer: TFTPTransfer
    private var reader: TFTPBlockReader
    private let client: SocketAddress
    private let file: String
    private let events: any TFTPEventSink
    private let metrics: TFTPMetrics
    private let started = NIODeadline.now()
    private var timer: (id: TFTPTimerID, due: NIODeadline)?
    /// Until when the socket's receive timeout can stay as it is; nil: set it before the next receive.
    private var receiveTimeoutHolds: NIODeadline?
    private var strangersDue: NIODeadline
    private var bytesSent = 0
    private var finished = false

    init(
        sockets: TFTPDatagramSocket.TransferPair, transfer: TFTPTransfer, content: TFTPFileContent,
        client: SocketAddress, file: String, events: any TFTPEventSink, metrics: TFTPMetrics
    ) {
        self.socket = sockets.client
        self.strangers = sockets.strangers
        self.transfer = transfer
        self.reader = TFTPBlockReader(content: content)
        self.client = client
        self.file = file
        self.events = events
        self.metrics = metrics
        self.strangersDue = started + Self.strangersInterval
    }

    /// Runs the transfer to its end; `stopping` is the handle's shutdown flag.
    /// The clock is read once per datagram: a block's work is a few microseconds, and every reading and
    /// `Duration` sum (128-bit arithmetic) showed in its profile. Times here are NIO's, as in
    /// `TFTPTransfer`, whose note says why.
    mutating func run(stopping: borrowing Atomic<Bool>) {
        let datagram = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
        defer { datagram.deallocate() }
        var now = NIODeadline.now()
        perform(transfer.handle(.start, now: now), now: now)
        while !finished {
            if stopping.load(ordering: .relaxed) {
                abort("server shutting down", message: "Server shutting down")
                break
            }
            receive(into: datagram, stopping: stopping, now: &now)
            fireDueTimer(now: now)
            if now >= strangersDue { answerStrangers(using: datagram, now: now) }
        }
        // A transfer shorter than the interval would otherwise close with strangers never answered.
        answerStrangers(using: datagram, now: now)
    }

    /// Waits for one datagram from the client (or the receive timeout) and hands what it says to the
    /// transfer. An ACK that moves the window on goes straight to the next DATA
    /// (`TFTPTransfer.window(afterAck:)`), with no packet value, buffer or array of actions in between:
    /// in lock-step that is every block.
    private mutating func receive(
        into datagram: UnsafeMutableRawBufferPointer, stopping: borrowing Atomic<Bool>, now: inout NIODeadline
    ) {
        armReceiveTimeout(now: now)
        let received = socket.receive(into: datagram)
        now = .now()
        if received < 0 {
            // ECONNREFUSED: an ICMP error about an earlier datagram. The client may still be there; the
            // timer decides, as on an unconnected socket.
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNREFUSED { return }
            return abort("receive failed: \(String(cString: strerror(errno)))", message: "Receive error")
        }
        // A wake-up from `shutdown()` reads as an empty datagram.
        guard !stopping.load(ordering: .relaxed) else { return }
        let bytes = UnsafeRawBufferPointer(rebasing: datagram[..<received])
        if let block = TFTPPacket.acknowledgedBlock(in: bytes), let window = transfer.window(afterAck: block, now: now) {
            return sendWindow(window)
        }
        var inbound = ByteBuffer(bytes: bytes)
        guard let packet = try? TFTPPacket(parsing: &inbound) else { return metrics.malformed.increment() }
        switch packet {
        case .ack(let block): perform(transfer.handle(.ack(block: block), now: now), now: now)
        case .error(let code, let message): perform(transfer.handle(.error(code: code, message: message), now: now), now: now)
        default: return
        }
    }

    /// ERROR 5 to whoever else wrote to the transfer's port since the last look; the transfer never sees them.
    private mutating func answerStrangers(using datagram: UnsafeMutableRawBufferPointer, now: NIODeadline) {
        strangersDue = now + Self.strangersInterval
        var from = TFTPDatagramSocket.Endpoint()
        var answered = 0
        while answered < Self.strangersPerLook, strangers.receiveWaiting(into: datagram, from: &from) >= 0 {
            metrics.wrongTID.increment()
            send(.error(code: .unknownTransferID, message: "Unknown transfer ID"), on: strangers, to: from)
            answered += 1
        }
    }

    /// The timer's due time may pass while packets keep coming (a client repeating an old ACK), so it is
    /// checked after every datagram, not only when the receive times out.
    private mutating func fireDueTimer(now: NIODeadline) {
        guard !finished, let due = timer, now >= due.due else { return }
        timer = nil
        perform(transfer.handle(.timerFired(due.id), now: now), now: now)
    }

    /// Sets SO_RCVTIMEO to the time left to the timer, and again only once a tenth of that has passed (or
    /// the timer changed): a receive started later wakes at most about 10% after the timer is due, and the
    /// timeout is set a few dozen times per timeout period, not once per block. It is never longer than
    /// `strangersInterval`, so a silent client does not keep strangers waiting.
    private mutating func armReceiveTimeout(now: NIODeadline) {
        if let holds = receiveTimeoutHolds, now < holds { return }
        let left = timer.map { max($0.due - now, .milliseconds(1)) } ?? .seconds(60)
        if left > Self.strangersInterval {
            // A receive started before `holds` still wakes by the time the timer is due.
            socket.setReceiveTimeout(nanoseconds: Self.strangersInterval.nanoseconds)
            receiveTimeoutHolds = now + (left - Self.strangersInterval)
        } else {
            socket.setReceiveTimeout(nanoseconds: left.nanoseconds)
            receiveTimeoutHolds = now + .nanoseconds(left.nanoseconds / 11)
        }
    }

    private mutating func perform(_ actions: [TFTPTransferAction], now: NIODeadline) {
        for action in actions {
            switch action {
            case .send(let packet):
                send(packet, on: socket)
            case .sendData(let blocks):
                sendWindow(blocks)
                if finished { return }
            case .scheduleTimer(let id, let delay):
                timer = (id, now + TimeAmount(delay))
                receiveTimeoutHolds = nil
            case .finish(let result):
                return finish(TFTPTransferEvent.Outcome(result))
            }
        }
    }

    /// DATA for `blocks`, then a read-ahead of the next while the client takes them.
    private mutating func sendWindow(_ blocks: ClosedRange<UInt64>) {
        do {
            for block in blocks { try sendData(block) }
            try reader.prefetch(blocks.upperBound + 1, of: transfer)
        } catch {
            abort("read failed: \(error)", message: "Read error")
        }
    }

    /// DATA `block`: the header and the payload gathered straight from memory or the read-ahead.
    private mutating func sendData(_ block: UInt64) throws(TFTPFileError) {
        let number = TFTPTransfer.wireNumber(block)
        let header = (UInt8(0), UInt8(TFTPOpcode.data.rawValue), UInt8(number >> 8), UInt8(number & 0xFF))
        let socket = self.socket
        bytesSent += try reader.withPayload(block, of: transfer) { payload in
            withUnsafeBytes(of: header) { socket.send($0, payload) }
            return payload.count
        }
    }

    /// `packet` on `socket`: to the client on its connected socket, else to `endpoint`.
    private func send(_ packet: TFTPPacket, on socket: TFTPDatagramSocket, to endpoint: TFTPDatagramSocket.Endpoint? = nil) {
        packet.bytes(allocator: ByteBufferAllocator()).withUnsafeReadableBytes { socket.send($0, to: endpoint) }
    }

    static func endpoint(_ address: SocketAddress) -> TFTPDatagramSocket.Endpoint {
        address.withSockAddr { TFTPDatagramSocket.Endpoint(copying: $0, length: $1) }
    }

    /// Ends the transfer from the server's side: ERROR 0 to the client.
    private mutating func abort(_ why: String, message: String) {
        send(.error(code: .notDefined, message: message), on: socket)
        finish(.failed(.aborted(why)))
    }

    private mutating func finish(_ outcome: TFTPTransferEvent.Outcome) {
        guard !finished else { return }
        finished = true
        metrics.finished(transfer, file: file, client: client, outcome: outcome, bytesSent: bytesSent, started: started, events: events)
    }
}
