import CoreMetrics
public import Logging
public import NIOCore
import NIOPosix
public import ServiceLifecycle

/// The DNS responder as a Service: the thin NIO adapter around `DNSResponder`, on UDP and TCP at the same
/// address. The zones come from `state`, which the appliance updates as the inventory changes.
public struct DNSService: Service, CustomStringConvertible {
    public struct Configuration: Sendable, Hashable {
        public var listen: ListenAddress
        /// Resolvers that names outside every zone are forwarded to; none means REFUSED for them.
        public var upstreams: [ListenAddress]
        /// How long an upstream has before the next is tried, and the client gets SERVFAIL after the last.
        public var forwardTimeout: TimeAmount
        /// A TCP connection with nothing read for this long is closed (RFC 7766 §6.2.3).
        public var tcpIdleTimeout: TimeAmount

        public init(
            listen: ListenAddress = ListenAddress(host: "0.0.0.0", port: 53), upstreams: [ListenAddress] = [],
            forwardTimeout: TimeAmount = .seconds(2), tcpIdleTimeout: TimeAmount = .seconds(10)
        ) {
            self.listen = listen
            self.upstreams = upstreams
            self.forwardTimeout = forwardTimeout
            self.tcpIdleTimeout = tcpIdleTimeout
        }
    }

    public let configuration: Configuration
    public let state: DNSResponderState
    public let logger: Logger
    let group: any EventLoopGroup
    let metrics = DNSMetrics()

    public init(configuration: Configuration, state: DNSResponderState, logger: Logger, group: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        self.state = state
        self.logger = logger
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
        let forwarding = !configuration.upstreams.isEmpty
        state.configure { $0.forwarding = forwarding }
    }

    public func run() async throws {
        let answerer = DNSAnswerer(state: state, metrics: metrics)
        let forwarder = self.forwarder
        let forward: DNSForwardFunction? =
            configuration.upstreams.isEmpty ? nil : { @Sendable query, transport in await forwarder.forward(query, over: transport) }
        let udp = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.datagramVectorReadMessageCount, value: 32)
            // 32 messages of up to 2 KiB each in one vector read (queries are small; EDNS ones stay well under).
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 2048))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DNSUDPHandler(answerer: answerer, forward: forward))
                }
            }
            .bind(host: configuration.listen.host, port: configuration.listen.port).get()
        let idle = configuration.tcpIdleTimeout
        let tcp: any Channel
        do {
            tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(readTimeout: idle),
                            ByteToMessageHandler(DNSFrameDecoder()),
                            DNSTCPHandler(answerer: answerer, forward: forward),
                        ])
                    }
                }
                // Port 0 in tests: TCP takes the port UDP was given.
                .bind(host: configuration.listen.host, port: udp.localAddress?.port ?? configuration.listen.port).get()
        } catch {
            try? await udp.close()
            throw error
        }
        logger.info("dns: listening", metadata: ["address": "\(udp.localAddress.map { "\($0)" } ?? "\(configuration.listen)")", "zones": "\(state.responder.zones.zones.count)"])
        await withTaskCancellationOrGracefulShutdownHandler {
            try? await udp.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            udp.close(promise: nil)
            tcp.close(promise: nil)
        }
        try? await tcp.closeFuture.get()
        logger.info("dns: stopped")
    }

    var forwarder: DNSForwarder {
        DNSForwarder(upstreams: configuration.upstreams, timeout: configuration.forwardTimeout, group: group, logger: logger)
    }

    /// Sends NOTIFY for `zones` to each secondary (RFC 1996 §3.7: SOA question, AA set); fire and forget,
    /// the secondaries poll on their refresh timer anyway.
    public func notify(_ zones: [DNSName], secondaries: [ListenAddress]) async {
        guard !zones.isEmpty, !secondaries.isEmpty else { return }
        do {
            let channel = try await DatagramBootstrap(group: group).bind(host: "0.0.0.0", port: 0).get()
            for zone in zones {
                var header = DNSHeader(id: UInt16.random(in: 0...UInt16.max))
                header.opcode = .notify
                header.authoritative = true
                let message = DNSMessage(header: header, questions: [DNSQuestion(name: zone, type: .soa)])
                for secondary in secondaries {
                    let address = try SocketAddress.makeAddressResolvingHost(secondary.host, port: secondary.port)
                    try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: message.bytes()))
                    metrics.notifies.increment()
                }
            }
            try await channel.close()
        } catch {
            logger.warning("dns: NOTIFY failed: \(error)")
        }
    }
}

extension DNSService {
    /// What ServiceLifecycle logs for this service: its name, not every stored property.
    public var description: String { "DNSService(\(configuration.listen))" }
}
