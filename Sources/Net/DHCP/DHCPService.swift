import CoreMetrics
import Foundation
public import Logging
public import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The DHCP responder as a Service: the thin NIO adapter around `DHCPResponder`.
///
/// One socket on port 67 per interface a network names (SO_BINDTODEVICE, so a broadcast reply leaves by
/// the interface the request came in), one unbound socket for relayed traffic and interface-less
/// networks, and the PXE boot server on port 4011. Each socket's loop parses, asks the one shared core
/// (behind a lock: several sockets feed it), and carries out the decision; a lease is made durable
/// before its ACK is written, in a child task, so a slow commit does not hold up other clients and
/// concurrent commits share one fsync.
public struct DHCPService: Service, CustomStringConvertible {
    public struct Configuration: Sendable, Hashable {
        public var networks: [DHCPNetwork]
        public var host: String
        public var serverPort: Int
        public var clientPort: Int
        /// The PXE boot server port (4011); nil for none.
        public var bootServerPort: Int?
        /// How often expired leases go back to the pool.
        public var reclaimInterval: Duration

        public init(
            networks: [DHCPNetwork], host: String = "0.0.0.0", serverPort: Int = 67, clientPort: Int = 68, bootServerPort: Int? = 4011,
            reclaimInterval: Duration = .seconds(60)
        ) {
            self.networks = networks
            self.host = host
            self.serverPort = serverPort
            self.clientPort = clientPort
            self.bootServerPort = bootServerPort
            self.reclaimInterval = reclaimInterval
        }
    }

    typealias Envelope = AddressedEnvelope<ByteBuffer>
    typealias Listener = NIOAsyncChannel<Envelope, Envelope>

    public let configuration: Configuration
    public let leases: any DHCPLeaseStore
    public let events: any DHCPEventSink
    public let logger: Logger
    let group: any EventLoopGroup
    let metrics = DHCPMetrics()

    public init(
        configuration: Configuration, leases: any DHCPLeaseStore, events: any DHCPEventSink, logger: Logger,
        group: (any EventLoopGroup)? = nil
    ) {
        self.configuration = configuration
        self.leases = leases
        self.events = events
        self.logger = logger
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
    }

    /// What a socket is for.
    struct Socket: Sendable {
        var channel: Listener
        /// The interface it is bound to, or nil for the catch-all.
        var device: String?
        var isBootServer: Bool
    }

    public func run() async throws {
        let core = DHCPCore(DHCPResponder(networks: configuration.networks, leases: try await leases.loadLeases()))
        let devices = Set(configuration.networks.compactMap(\.interface)).sorted()
        var sockets: [Socket] = []
        for device in devices {
            sockets.append(Socket(channel: try await bind(port: configuration.serverPort, device: device), device: device, isBootServer: false))
        }
        if devices.isEmpty || configuration.networks.contains(where: { $0.interface == nil }) {
            sockets.append(Socket(channel: try await bind(port: configuration.serverPort, device: nil), device: nil, isBootServer: false))
        }
        if let port = configuration.bootServerPort {
            sockets.append(Socket(channel: try await bind(port: port, device: nil), device: nil, isBootServer: true))
        }
        logger.info(
            "dhcp: listening",
            metadata: [
                "port": "\(configuration.serverPort)", "interfaces": "\(devices.isEmpty ? "any" : devices.joined(separator: ","))",
                "networks": "\(configuration.networks.map(\.name).joined(separator: ","))",
                "boot-server": "\(configuration.bootServerPort.map(String.init) ?? "off")",
            ])
        let named = Set(devices)
        let listeners = sockets
        let reclaimInterval = configuration.reclaimInterval
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await reclaimLoop(core, every: reclaimInterval) }
                try await withThrowingDiscardingTaskGroup { loops in
                    for socket in listeners { loops.addTask { try await serve(socket, core: core, named: named) } }
                }
                group.cancelAll()
            }
        } onCancelOrGracefulShutdown: {
            for socket in listeners { socket.channel.channel.close(promise: nil) }
        }
        logger.info("dhcp: stopped")
    }

    private func bind(port: Int, device: String?) async throws -> Listener {
        try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_broadcast), value: 1)
            .channelOption(.receivePacketInfo, value: true)
            .channelOption(.datagramVectorReadMessageCount, value: 32)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 2048))
            .bind(host: configuration.host, port: port) { channel in
                Self.bindToDevice(channel, device).flatMapThrowing {
                    try NIOAsyncChannel<Envelope, Envelope>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// SO_BINDTODEVICE before the bind, so this socket only sees (and sends by) its interface.
    static func bindToDevice(_ channel: any Channel, _ device: String?) -> EventLoopFuture<Void> {
        guard let device, let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededVoidFuture() }
        var name: (Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8, Int8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &name) { raw in
            for (index, byte) in device.utf8.prefix(15).enumerated() { raw[index] = byte }
        }
        return provider.unsafeSetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET), name: NIOBSDSocket.Option(rawValue: SO_BINDTODEVICE), value: name)
    }

    private func reclaimLoop(_ core: DHCPCore, every interval: Duration) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            let expired = core.state.withLock { $0.reclaim(now: Date()) }
            guard !expired.isEmpty else { continue }
            metrics.reclaimed.increment(by: Int64(expired.count))
            do { try await leases.persist(expired) } catch { logger.warning("dhcp: cannot record expired leases: \(error)") }
        }
    }

    private func serve(_ socket: Socket, core: DHCPCore, named: Set<String>) async throws {
        try await socket.channel.executeThenClose { inbound, outbound in
            try await withThrowingDiscardingTaskGroup { pending in
                var context = LoopContext(socket: socket, named: named, outbound: outbound)
                for try await envelope in inbound {
                    handle(envelope, core: core, context: &context, pending: &pending)
                }
            }
        }
    }
}

/// The core, shared by the sockets' loops.
final class DHCPCore: Sendable {
    let state: Mutex<DHCPResponder>
    init(_ responder: DHCPResponder) { state = Mutex(responder) }
}

extension DHCPService {
    /// What ServiceLifecycle logs for this service: its name, not every stored property.
    public var description: String { "DHCPService(\(configuration.networks.map(\.name).joined(separator: ", ")))" }
}
