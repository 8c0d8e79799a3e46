public import Logging
public import NIOCore
import CoreMetrics
import NIOPosix
public import ServiceLifecycle

/// The TFTP responder as a Service: the thin NIO adapter around `TFTPResponder` and `TFTPTransfer`.
///
/// Requests arrive on the listening port and are read by one loop. Each accepted RRQ gets its own
/// port (the server's TID, RFC 1350 §4): a lock-step transfer (or a window of large blocks) runs there
/// on a blocking socket and a thread of its own (`TFTPSocketTransfer`), a windowed one or an upload in a
/// channel whose handler (`TFTPTransferHandler`, `TFTPReceiveHandler`) runs it on the channel's event
/// loop. Graceful shutdown closes the listening port, tells every running transfer's client (ERROR 0) and
/// waits for them to end.
public struct TFTPService: Service, CustomStringConvertible {
    public struct Configuration: Sendable, Hashable {
        public var listen: ListenAddress
        public var limits: TFTPLimits
        /// Transfers running at once; a request beyond it gets ERROR 0 "Server busy".
        public var maxTransfers: Int
        /// Per source address: requests at once, and per second after that (see `TFTPRateLimiter`).
        public var requestBurst: Int
        public var requestsPerSecond: Int
        /// netascii is converted in memory, so it is only served for files up to this size.
        public var maxNetasciiSize: Int
        /// Windows are sent as UDP GSO writes where the kernel supports it; off, one write per datagram.
        public var segmentationOffload: Bool
        /// Transfers with nothing for GSO to batch run on a blocking socket and a thread each
        /// (`TFTPSocketTransfer`): lock-step ones, and windows of blocks too large for two to share a write
        /// (there the socket saves copying each block into a packet buffer). Off, they run on NIO channels.
        public var socketThreads: Bool

        public init(
            listen: ListenAddress = ListenAddress(host: "0.0.0.0", port: 69), limits: TFTPLimits = TFTPLimits(),
            maxTransfers: Int = 512, requestBurst: Int = 128, requestsPerSecond: Int = 64,
            maxNetasciiSize: Int = 16 << 20, segmentationOffload: Bool = true, socketThreads: Bool = true
        ) {
            self.segmentationOffload = segmentationOffload
            self.socketThreads = socketThreads
            self.listen = listen
            self.limits = limits
            self.maxTransfers = maxTransfers
            self.requestBurst = requestBurst
            self.requestsPerSecond = requestsPerSecond
            self.maxNetasciiSize = maxNetasciiSize
        }
    }

    typealias Envelope = AddressedEnvelope<ByteBuffer>

    public let configuration: Configuration
    public let files: any TFTPFileSource
    /// Where WRQs land; nil refuses them with ERROR 2.
    public let uploads: TFTPUploadDirectory?
    public let events: any TFTPEventSink
    public let logger: Logger
    let group: any EventLoopGroup
    let metrics = TFTPMetrics()

    public init(
        configuration: Configuration, files: any TFTPFileSource, uploads: TFTPUploadDirectory? = nil,
        events: any TFTPEventSink, logger: Logger, group: (any EventLoopGroup)? = nil
    ) {
        self.configuration = configuration
        self.files = files
        self.uploads = uploads
        self.events = events
        self.logger = logger
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
    }

    public func run() async throws {
        let listener = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.receivePacketInfo, value: true)
            .channelOption(.datagramVectorReadMessageCount, value: 32)
            // A vector read splits the receive buffer between its messages: 2 KiB each holds any request
            // (RFC 2347 keeps them within 512 bytes) where the default 64 bytes each cut long names off.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 2048))
            .bind(host: configuration.listen.host, port: configuration.listen.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<Envelope, Envelope>(wrappingChannelSynchronously: channel)
                }
            }
        logger.info("tftp: listening", metadata: ["address": "\(configuration.listen)"])
        let active = TFTPActiveTransfers(limit: configuration.maxTransfers)
        let listenerAddress = listener.channel.localAddress
        var failure: (any Error)?
        do {
            try await withTaskCancellationOrGracefulShutdownHandler {
                try await listener.executeThenClose { inbound, outbound in
                    var responder = TFTPResponder(
                        limiter: TFTPRateLimiter(
                            burst: configuration.requestBurst, perSecond: configuration.requestsPerSecond),
                        acceptsWrites: uploads != nil)
                    // Requests are decided here, one at a time (the rate limiter is this loop's state); opening
                    // files and rendering virtual ones run as child tasks, so a slow one holds up nobody.
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await envelope in inbound {
                            await handle(
                                envelope, responder: &responder, listener: listenerAddress, outbound: outbound, active: active,
                                group: &group)
                        }
                    }
                }
            } onCancelOrGracefulShutdown: {
                listener.channel.close(promise: nil)
            }
        } catch {
            failure = error
        }
        await stop(active)
        // Cancellation is how a task-run service is asked to stop: not a failure.
        if let failure, !(failure is CancellationError) { throw failure }
    }

    /// Ends every running transfer (its client gets ERROR 0) and waits for their ports to close.
    private func stop(_ active: TFTPActiveTransfers) async {
        let running = active.all
        for transfer in running { transfer.shutdown() }
        for transfer in running { try? await transfer.closeFuture.get() }
        logger.info("tftp: stopped", metadata: ["transfers-aborted": "\(running.count)"])
    }

    private func handle(
        _ envelope: Envelope, responder: inout TFTPResponder, listener: SocketAddress?,
        outbound: NIOAsyncChannelOutboundWriter<Envelope>, active: TFTPActiveTransfers, group: inout ThrowingDiscardingTaskGroup<any Error>
    ) async {
        let client = envelope.remoteAddress
        let decision = responder.handle(envelope.data, from: client.ipAddress ?? "", now: .now())
        switch decision {
        case .drop(.rateLimited):
            metrics.rateLimited.increment()
        case .drop:
            metrics.malformed.increment()
        case .refuse(let code, let message, let reason):
            metrics.requests.increment()
            await refuse(client, file: Self.filename(envelope.data), code: code, message: message, reason: reason, outbound: outbound)
        case .read(let request, let mode), .write(let request, let mode):
            metrics.requests.increment()
            switch active.reserve(client) {
            case .duplicate: return
            case .full:
                return await refuse(client, file: request.filename, code: .notDefined, message: "Server busy", reason: .busy, outbound: outbound)
            case .reserved: break
            }
            let local = Self.localAddress(listener, envelope)
            let isWrite = if case .write = decision { true } else { false }
            group.addTask {
                await begin(request, mode: mode, isWrite: isWrite, client: client, local: local, outbound: outbound, active: active)
            }
        }
    }

    /// Starts the transfer whose TID is reserved, or answers with the ERROR its file earns.
    private func begin(
        _ request: TFTPRequest, mode: TFTPMode, isWrite: Bool, client: SocketAddress, local: SocketAddress,
        outbound: NIOAsyncChannelOutboundWriter<Envelope>, active: TFTPActiveTransfers
    ) async {
        do {
            let transfer = try await isWrite
                ? startUpload(request, mode: mode, client: client, local: local)
                : start(request, mode: mode, client: client, local: local)
            active.attach(transfer, to: client)
            transfer.closeFuture.whenComplete { _ in active.release(client) }
        } catch {
            active.release(client)
            let fileError = error as? TFTPFileError ?? .readFailed("\(error)")
            let reason: TFTPRefusal
            switch fileError {
            case .notFound: reason = .notFound
            case .accessViolation(let why): reason = .path(why)
            case .readFailed(let why), .writeFailed(let why): reason = .read(why)
            case .exists: reason = .exists
            case .tooLarge: reason = .tooLarge
            }
            await refuse(client, file: request.filename, code: fileError.code, message: fileError.message, reason: reason, outbound: outbound)
        }
    }

    /// Opens the file, negotiates, and binds the transfer's own port: a blocking socket for lock-step, a
    /// channel for windows. Its adapter sends the first packet.
    private func start(
        _ request: TFTPRequest, mode: TFTPMode, client: SocketAddress, local: SocketAddress
    ) async throws -> any TFTPTransferHandle {
        var content = try await files.open(request.filename, for: client)
        if mode == .netascii { content = .memory(TFTPNetascii.encode(try netasciiSource(content))) }
        let limits = configuration.limits
        let negotiation = TFTPNegotiation(requested: request.options, limits: limits, size: content.size)
        let transfer = TFTPTransfer(size: content.size, negotiation: negotiation, limits: limits)
        let (events, metrics, file) = (self.events, self.metrics, request.filename)
        if configuration.socketThreads, negotiation.windowSize == 1 || !TFTPTransferHandler.packs(blockSize: negotiation.blockSize) {
            return try TFTPSocketTransfer.start(
                transfer, content: content, client: client, local: local, file: file, events: events, metrics: metrics, loop: group.next())
        }
        // Windows go out as GSO writes where the kernel can (Linux 4.18+); lock-step has nothing to batch.
        let segmentSize = configuration.segmentationOffload && negotiation.windowSize > 1 && System.supportsUDPSegmentationOffload
            ? 4 + negotiation.blockSize : nil
        var bootstrap = Self.transferBootstrap(group)
        if let segmentSize { bootstrap = bootstrap.channelOption(.datagramSegmentSize, value: CInt(segmentSize)) }
        bootstrap = bootstrap.channelInitializer { [content] channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    TFTPTransferHandler(
                        transfer: transfer, content: content, client: client, file: file, events: events, metrics: metrics,
                        segmentSize: segmentSize))
            }
        }
        return try await Self.bind(bootstrap, local: local, client: client)
    }

    /// Creates the upload's temporary file, negotiates, and binds the upload's own channel.
    private func startUpload(
        _ request: TFTPRequest, mode: TFTPMode, client: SocketAddress, local: SocketAddress
    ) async throws -> any TFTPTransferHandle {
        guard let uploads else { throw TFTPFileError.accessViolation("no upload directory") }
        // tsize in a WRQ is the size the client is about to send (RFC 2349 §4): echoed, or refused when too large.
        let size = request.options.entries.first { $0.name.lowercased() == "tsize" }.flatMap { TFTPNegotiation.decimal($0.value) }
        let upload = try uploads.create(request.filename, size: size)
        let limits = configuration.limits
        let receive = TFTPReceive(
            negotiation: TFTPNegotiation(requested: request.options, limits: limits, size: size ?? 0), limits: limits,
            maxSize: uploads.maxSize)
        let (events, metrics, file) = (self.events, self.metrics, request.filename)
        logger.info("tftp: receiving", metadata: ["file": "\(file)", "client": "\(client)", "into": "\(upload.target)"])
        let bootstrap = Self.transferBootstrap(group).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    TFTPReceiveHandler(
                        receive: receive, upload: upload, mode: mode, client: client, file: file, events: events, metrics: metrics))
            }
        }
        return try await Self.bind(bootstrap, local: local, client: client)
    }

    /// Binds a transfer's channel to the address the request came to or, when that is not bindable (a
    /// broadcast), to any local address.
    private static func bind(_ bootstrap: DatagramBootstrap, local: SocketAddress, client: SocketAddress) async throws -> TFTPChannelTransfer {
        do {
            return TFTPChannelTransfer(channel: try await bootstrap.bind(to: local).get())
        } catch {
            return TFTPChannelTransfer(channel: try await bootstrap.bind(host: client.protocol == .inet6 ? "::" : "0.0.0.0", port: 0).get())
        }
    }

    /// A transfer's channel. Its client sends one packet per round trip (lock-step) or per window, so one
    /// read per wake-up is all there is: reading on until EAGAIN would cost a syscall per packet for nothing.
    static func transferBootstrap(_ group: any EventLoopGroup) -> DatagramBootstrap {
        DatagramBootstrap(group: group).channelOption(.maxMessagesPerRead, value: 1)
    }

    private func netasciiSource(_ content: TFTPFileContent) throws(TFTPFileError) -> ByteBuffer {
        switch content {
        case .memory(let bytes): return bytes
        case .file(let file):
            guard file.size <= configuration.maxNetasciiSize else { throw .readFailed("too large for netascii") }
            return try file.readAll()
        }
    }

    private func refuse(
        _ client: SocketAddress, file: String, code: TFTPErrorCode, message: String, reason: TFTPRefusal,
        outbound: NIOAsyncChannelOutboundWriter<Envelope>
    ) async {
        metrics.refused(reason)
        if case .path(let why) = reason {
            logger.warning("tftp: refused path", metadata: ["file": "\(file)", "client": "\(client)", "why": "\(why)"])
        }
        events.record(TFTPTransferEvent(file: file, client: client, outcome: .refused(code, reason)))
        // Errors go out from the listening port: clients take the first answer's port as the server's TID.
        try? await outbound.write(Envelope(remoteAddress: client, data: TFTPPacket.error(code: code, message: message).bytes()))
    }

    /// Where the transfer's channel binds: the address the request came to, so a multi-homed appliance
    /// answers from the address the client knows; port 0 picks the new TID.
    static func localAddress(_ listener: SocketAddress?, _ envelope: Envelope) -> SocketAddress {
        var address = envelope.metadata?.packetInfo?.destinationAddress ?? listener ?? (try! SocketAddress(ipAddress: "0.0.0.0", port: 0))
        if let listener, let host = listener.ipAddress, host != "0.0.0.0", host != "::" { address = listener }
        address.port = 0
        return address
    }

    /// The file name of a refused request, for the event; best effort.
    static func filename(_ datagram: ByteBuffer) -> String {
        var buffer = datagram
        guard case .some(1...2) = buffer.readInteger(as: UInt16.self), let name = try? buffer.readTFTPString(field: "") else { return "" }
        return name
    }
}

/// Blocking file work (opens, cache-miss reads) goes to NIO's thread pool, never to an event loop.
struct ThreadPoolBlockingIO: TFTPBlockingIO {
    let pool: NIOThreadPool

    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        // The pool only refuses work once shut down; the singleton never is.
        (try? await pool.runIfActive(work)) ?? work()
    }
}

extension TFTPService {
    /// What the TFTP root uses for blocking file work unless told otherwise: NIO's shared thread pool.
    public static var blockingIO: any TFTPBlockingIO { ThreadPoolBlockingIO(pool: .singleton) }
}

extension TFTPService {
    /// What ServiceLifecycle logs for this service: its name, not every stored property.
    public var description: String { "TFTPService(\(configuration.listen))" }
}
