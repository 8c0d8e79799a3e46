import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 connection to an etcd member's gateway.
struct EtcdHTTPConnection: Sendable {
    let channel: any Channel

    /// How long to wait for a TCP connection before trying the next endpoint.
    static let connectTimeout: TimeAmount = .seconds(2)
    /// How long a unary call may take. etcd gives up on a proposal after about 7 s on its own, so this
    /// only fires when the member itself stopped answering.
    static let requestTimeout: TimeAmount = .seconds(15)

    /// Connects to `endpoint`. Throws `EtcdTransportError.connect` when it cannot.
    static func connect(to endpoint: EtcdEndpoint) async throws(EtcdTransportError) -> EtcdHTTPConnection {
        let host = "\(endpoint.host):\(endpoint.port)"
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(EtcdHTTPHandler(host: host, timeout: requestTimeout))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
            return EtcdHTTPConnection(channel: channel)
        } catch {
            throw EtcdTransportError.connect("\(error)")
        }
    }

    var isActive: Bool { channel.isActive }

    /// POSTs `body` to `path` and returns the whole response.
    func post(_ path: String, _ body: ByteBuffer) async throws(EtcdTransportError) -> EtcdHTTPResponse {
        let promise = channel.eventLoop.makePromise(of: EtcdHTTPResponse.self)
        // A write to a channel that closed meanwhile never reaches the handler: fail the call here then.
        channel.writeAndFlush(EtcdHTTPRequest(path: path, body: body, receiver: .whole(promise))).whenFailure {
            promise.fail(EtcdTransportError(writeFailure: $0))
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as EtcdTransportError {
            throw error
        } catch {
            throw EtcdTransportError.dropped("\(error)")
        }
    }

    /// POSTs `body` to `path` and returns the response's lines as they arrive. The stream ends when the
    /// server ends the response and fails when the connection breaks; `close()` ends it from our side.
    func stream(_ path: String, _ body: ByteBuffer) -> AsyncThrowingStream<ByteBuffer, any Error> {
        let (lines, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self, throwing: (any Error).self)
        channel.writeAndFlush(EtcdHTTPRequest(path: path, body: body, receiver: .lines(continuation))).whenFailure {
            continuation.finish(throwing: EtcdTransportError(writeFailure: $0))
        }
        return lines
    }

    func close() {
        channel.close(promise: nil)
    }
}

extension EtcdTransportError {
    /// A pooled connection the server closed while idle refuses the write before sending a byte, so the
    /// request may safely go elsewhere; any other write failure may have sent part of it.
    init(writeFailure error: any Error) {
        if let error = error as? ChannelError, error == .ioOnClosedChannel {
            self = .connect("connection was already closed")
        } else {
            self = .dropped("\(error)")
        }
    }
}
