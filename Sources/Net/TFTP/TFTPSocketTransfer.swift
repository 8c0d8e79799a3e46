import CoreMetrics
import Foundation
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs one lock-step read transfer on a blocking socket, on a thread of its own.
///
/// Lock-step is a ping-pong: one DATA out, one ACK back, nothing to do in between. On a NIO channel each
/// block went through the selector, the pipeline and an envelope with its address, some 3 µs of
/// user-space work a block, which held Provision at 0.7-0.95x tftpd-hpa. Here a block costs one
/// `recvfrom` and one `sendto` with buffers reused: the loop tftpd-hpa runs, minus the `pselect`, file
/// `read`, `fcntl` and signal masking it does per block. Windows stay on the NIO handler, where they go
/// out as GSO writes.
///
/// The socket is not connected, so a stranger's packet still arrives and gets ERROR 5 (RFC 1350 §4).
/// The receive timeout (SO_RCVTIMEO) stands in for the transfer's timer: it is set again only when the
/// timer comes due much sooner or later than the current setting, a few dozen times a timeout period,
/// not once per block.
final class TFTPSocketTransfer: TFTPTransferHandle, @unchecked Sendable {
    // Everything below `done` is touched only by the transfer's thread (or before it starts).
    private let socket: CInt
    /// Whether `socket` is still open: `shutdown()` comes from another thread and must not touch a
    /// descriptor number the kernel may already have given to someone else.
    private let open = Mutex(true)
    private let stopping = Atomic<Bool>(false)
    private let done: EventLoopPromise<Void>

    private var transfer: TFTPTransfer
    private var reader: TFTPBlockReader
    private let client: SocketAddress
    private let clientEndpoint: Endpoint
    private let file: String
    private let events: any TFTPEventSink
    private let metrics: TFTPMetrics
    private let started = ContinuousClock.now
    private var timer: (id: TFTPTimerID, due: ContinuousClock.Instant)?
    private var receiveTimeout: Duration?
    private var inbound = ByteBufferAllocator().buffer(capacity: 2048)
    private var outbound: ByteBuffer
    private var bytesSent = 0
    private var finished = false

    var closeFuture: EventLoopFuture<Void> { done.futureResult }

    /// Binds the transfer's port (on `local`'s address, else any) and starts its thread, which sends the
    /// first packet.
    static func start(
        _ transfer: TFTPTransfer, content: TFTPFileContent, client: SocketAddress, local: SocketAddress, file: String,
        events: any TFTPEventSink, metrics: TFTPMetrics, loop: any EventLoop
    ) throws -> TFTPSocketTransfer {
        let family = client.protocol == .inet6 ? AF_INET6 : AF_INET
        let socket = Glibc.socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw TFTPFileError.readFailed("socket: \(String(cString: strerror(errno)))") }
        let any = try SocketAddress(ipAddress: family == AF_INET6 ? "::" : "0.0.0.0", port: 0)
        // The address the request came to may not be bindable (a broadcast): any local address will do.
        guard Self.bind(socket, local) || Self.bind(socket, any) else {
            let reason = String(cString: strerror(errno))
            close(socket)
            throw TFTPFileError.readFailed("bind: \(reason)")
        }
        let running = TFTPSocketTransfer(
            socket: socket, transfer: transfer, content: content, client: client, file: file, events: events, metrics: metrics,
            done: loop.makePromise())
        let thread = Thread { running.run() }
        thread.stackSize = 256 << 10
        thread.name = "tftp-transfer"
        thread.start()
        return running
    }

    private init(
        socket: CInt, transfer: TFTPTransfer, content: TFTPFileContent, client: SocketAddress, file: String,
        events: any TFTPEventSink, metrics: TFTPMetrics, done: EventLoopPromise<Void>
    ) {
        self.socket = socket
        self.transfer = transfer
        self.reader = TFTPBlockReader(content: content)
        self.client = client
        self.clientEndpoint = Endpoint(client)
        self.file = file
        self.events = events
        self.metrics = metrics
        self.done = done
        self.outbound = ByteBufferAllocator().buffer(capacity: 4 + transfer.negotiation.blockSize)
    }

    func shutdown() {
        stopping.store(true, ordering: .relaxed)
        // Wakes the thread out of `recvfrom`; writing stays possible, for the ERROR that tells the client.
        open.withLock { isOpen in if isOpen { _ = Glibc.shutdown(socket, Int32(SHUT_RD)) } }
    }

    private func run() {
        perform(transfer.handle(.start, now: .now))
        while !finished {
            if stopping.load(ordering: .relaxed) {
                abort("server shutting down", message: "Server shutting down")
                break
            }
            receive()
            fireDueTimer()
        }
        open.withLock { isOpen in
            close(socket)
            isOpen = false
        }
        done.succeed(())
    }

    /// Waits for one datagram (or the receive timeout) and hands what it says to the transfer.
    private func receive() {
        armReceiveTimeout()
        var from = Endpoint()
        var received = -1
        inbound.clear()
        inbound.writeWithUnsafeMutableBytes(minimumWritableBytes: 2048) { bytes in
            received = from.receiving { address, length in recvfrom(socket, bytes.baseAddress, bytes.count, 0, address, length) }
            return max(received, 0)
        }
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
        case .ack(let block): perform(transfer.handle(.ack(block: block), now: .now))
        case .error(let code, let message): perform(transfer.handle(.error(code: code, message: message), now: .now))
        default: return
        }
    }

    /// The timer's due time may pass while packets keep coming (a client repeating an old ACK), so it is
    /// checked after every datagram, not only when the receive times out.
    private func fireDueTimer() {
        guard !finished, let due = timer, ContinuousClock.now >= due.due else { return }
        timer = nil
        perform(transfer.handle(.timerFired(due.id), now: .now))
    }

    /// Keeps SO_RCVTIMEO between half and 110% of the time left to the timer: at most 10% late, and set
    /// again only a few dozen times per timeout period as the time left shrinks.
    private func armReceiveTimeout() {
        let left = timer.map { max($0.due - .now, .milliseconds(1)) } ?? .seconds(60)
        if let current = receiveTimeout, current <= left * 1.1, current >= left / 2 { return }
        let micros = left / .microseconds(1)
        var value = timeval(tv_sec: Int(micros) / 1_000_000, tv_usec: Int(micros) % 1_000_000)
        _ = setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        receiveTimeout = left
    }

    private func perform(_ actions: [TFTPTransferAction]) {
        for action in actions {
            switch action {
            case .send(let packet):
                send(packet, to: clientEndpoint)
            case .sendData(let blocks):
                for block in blocks {
                    outbound.clear()
                    do {
                        bytesSent += try reader.appendData(block, of: transfer, to: &outbound)
                    } catch {
                        return abort("read failed: \(error)", message: "Read error")
                    }
                    send(outbound, to: clientEndpoint)
                }
            case .scheduleTimer(let id, let delay):
                timer = (id, .now + delay)
            case .finish(let result):
                return finish(TFTPTransferEvent.Outcome(result))
            }
        }
    }

    private func send(_ packet: TFTPPacket, to endpoint: Endpoint) {
        send(packet.bytes(allocator: ByteBufferAllocator()), to: endpoint)
    }

    /// A lost datagram is the protocol's to recover (the client times out, or this side does), so a
    /// failed `sendto` is not an error here.
    private func send(_ datagram: ByteBuffer, to endpoint: Endpoint) {
        datagram.withUnsafeReadableBytes { bytes in
            _ = endpoint.sending { address, length in sendto(socket, bytes.baseAddress, bytes.count, 0, address, length) }
        }
    }

    /// Ends the transfer from the server's side: ERROR 0 to the client.
    private func abort(_ why: String, message: String) {
        send(.error(code: .notDefined, message: message), to: clientEndpoint)
        finish(.failed(.aborted(why)))
    }

    private func finish(_ outcome: TFTPTransferEvent.Outcome) {
        guard !finished else { return }
        finished = true
        metrics.finished(transfer, file: file, client: client, outcome: outcome, bytesSent: bytesSent, started: started, events: events)
    }
}

extension TFTPSocketTransfer {
    /// A peer's address and port as the socket calls see them, compared without building a
    /// `SocketAddress` (and its text) for every datagram.
    struct Endpoint: Equatable {
        private var storage = sockaddr_storage()
        private var length = socklen_t(MemoryLayout<sockaddr_storage>.size)

        init() {}

        init(_ address: SocketAddress) {
            address.withSockAddr { pointer, size in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: size)) }
                length = socklen_t(size)
            }
        }

        mutating func receiving(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int) -> Int {
            length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            return withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, &length) }
            }
        }

        func sending(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Int) -> Int {
            withUnsafePointer(to: storage) { pointer in pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
        }

        /// Same family, port and address (for IPv6, the scope too). Compared as bytes at their fixed ABI
        /// offsets: `sockaddr_in` is family, port, address (bytes 2..<8 after the family); `sockaddr_in6`
        /// is family, port, flow label, address, scope (port at 2..<4, address and scope at 8..<28).
        static func == (a: Endpoint, b: Endpoint) -> Bool {
            guard a.storage.ss_family == b.storage.ss_family else { return false }
            func same(_ span: Range<Int>) -> Bool {
                withUnsafeBytes(of: a.storage) { x in withUnsafeBytes(of: b.storage) { y in x[span].elementsEqual(y[span]) } }
            }
            switch Int32(a.storage.ss_family) {
            case AF_INET: return same(2..<8)
            case AF_INET6: return same(2..<4) && same(8..<28)
            default: return false
            }
        }
    }

    private static func bind(_ socket: CInt, _ address: SocketAddress) -> Bool {
        address.withSockAddr { pointer, size in Glibc.bind(socket, pointer, socklen_t(size)) } == 0
    }
}
