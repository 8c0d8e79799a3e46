import NIOCore
import NIOPosix
import Synchronization

/// A TCP forwarder on 127.0.0.1 in front of a real service, which a test can cut: drop every connection
/// through it, or refuse new ones for a while, as a network fault or a restarting server would.
public final class TCPProxy: Sendable {
    /// Where clients connect: `http://127.0.0.1:\(port)` for an HTTP service.
    public let port: Int
    private let server: any Channel
    private let connections: Connections

    /// Starts forwarding to `host:port`.
    public init(to host: String, port targetPort: Int) async throws {
        let connections = Connections()
        let group = MultiThreadedEventLoopGroup.singleton
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                // The accepted channel is registered, and so starts reading, only once this future
                // completes, so no byte arrives before its forwarder is in place.
                guard connections.admit(inbound) else { return inbound.close() }
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: host, port: targetPort)
                    .flatMap { outbound in
                        _ = connections.admit(outbound, serviceSide: true)
                        return Self.join(inbound, outbound)
                    }
                    .flatMapError { _ in inbound.close() }
            }
        server = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = server.localAddress?.port ?? 0
        self.connections = connections
    }

    /// How many client connections the proxy has forwarded so far, refused ones not counted.
    public var forwardedCount: Int { connections.state.withLock { $0.forwarded } }

    /// How many connections (client and service sides) are open through the proxy.
    public var connectionCount: Int { connections.state.withLock { $0.open.count } }

    /// Closes every connection through the proxy, both sides.
    public func dropConnections() {
        let open = connections.state.withLock { Array($0.open.values) }
        for channel in open { channel.close(promise: nil) }
    }

    /// While refusing, the proxy accepts connections and closes them at once, like a server that is down.
    public func refuse(_ refusing: Bool) {
        connections.state.withLock { $0.refusing = refusing }
        if refusing { dropConnections() }
    }

    public func stop() async {
        dropConnections()
        try? await server.close()
    }

    /// Pipes bytes both ways; when either side closes, so does the other.
    private static func join(_ a: any Channel, _ b: any Channel) -> EventLoopFuture<Void> {
        a.eventLoop.makeCompletedFuture {
            try a.pipeline.syncOperations.addHandler(Forwarder(peer: b))
        }.flatMap {
            b.eventLoop.submit {
                try b.pipeline.syncOperations.addHandler(Forwarder(peer: a))
            }
        }
    }
}

/// The channels open through the proxy, each removed when it closes.
private final class Connections: Sendable {
    struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var refusing = false
        var forwarded = 0
    }

    let state = Mutex(State())

    /// Tracks a client connection unless the proxy is refusing, or the service side of one it took;
    /// says whether it did.
    func admit(_ channel: any Channel, serviceSide: Bool = false) -> Bool {
        let admitted = state.withLock { state in
            guard serviceSide || !state.refusing else { return false }
            state.open[ObjectIdentifier(channel)] = channel
            if !serviceSide { state.forwarded += 1 }
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [self] _ in
                _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
            }
        }
        return admitted
    }
}

/// Writes what one channel reads to its peer, and closes the peer when it closes.
private final class Forwarder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let peer: any Channel

    init(peer: any Channel) { self.peer = peer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
