import NIOCore
import NIOHTTP1

/// One POST to etcd's gateway, with where its response goes.
struct EtcdHTTPRequest: Sendable {
    var path: String
    var body: ByteBuffer
    var receiver: EtcdHTTPReceiver
}

/// A complete response of a unary call.
struct EtcdHTTPResponse: Sendable {
    var status: HTTPResponseStatus
    var body: ByteBuffer
}

/// Where a response goes: whole, for unary calls; line by line, for server streams (watch), which the
/// gateway writes as newline-delimited JSON objects for as long as the stream lives.
enum EtcdHTTPReceiver: Sendable {
    case whole(EventLoopPromise<EtcdHTTPResponse>)
    case lines(AsyncThrowingStream<ByteBuffer, any Error>.Continuation)
}

/// Why a request did not get its response.
enum EtcdTransportError: Error, Sendable, CustomStringConvertible {
    /// No connection: the request was certainly not sent, so any request may go to another endpoint.
    case connect(String)
    /// The connection broke after the request was written: a write may or may not have been applied.
    case dropped(String)
    /// A non-200 answer to a stream, with its body.
    case status(HTTPResponseStatus, ByteBuffer)
    /// The calling task was cancelled before a connection was free; nothing was sent.
    case cancelled

    var description: String {
        switch self {
        case .connect(let why): return "cannot connect: \(why)"
        case .dropped(let why): return "connection lost: \(why)"
        case .status(let status, let body): return "HTTP \(status.code): \(String(buffer: body))"
        case .cancelled: return "cancelled"
        }
    }
}

/// Runs one request at a time on an HTTP/1.1 keep-alive connection: writes it, gathers or streams the
/// response, and fails it if the connection ends first. The pool guarantees one request at a time.
final class EtcdHTTPHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = EtcdHTTPRequest
    typealias OutboundOut = HTTPClientRequestPart

    private let host: String
    private let timeout: TimeAmount
    private var receiver: EtcdHTTPReceiver?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var timer: Scheduled<Void>?

    /// `timeout` bounds a unary call; streams live until closed.
    init(host: String, timeout: TimeAmount) {
        self.host = host
        self.timeout = timeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard receiver == nil else {
            Self.fail(request.receiver, EtcdTransportError.connect("connection busy"))
            promise?.fail(EtcdTransportError.connect("connection busy"))
            return
        }
        receiver = request.receiver
        head = nil
        body.clear()
        if case .whole = request.receiver {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                failAndClose(context: loopBound.value, EtcdTransportError.dropped("no answer in \(timeout)"))
            }
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(request.body.readableBytes))
        if case .lines = request.receiver {
            // gRPC metadata "hasleader": a member cut off from its cluster ends the stream instead of
            // keeping it open and silent, so the watch moves to a member that still hears the leader.
            headers.add(name: "Grpc-Metadata-Hasleader", value: "true")
        }
        let requestHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: request.path, headers: headers)
        context.write(wrapOutboundOut(.head(requestHead)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            head = responseHead
        case .body(var chunk):
            if case .lines(let continuation) = receiver, head?.status == .ok {
                body.writeBuffer(&chunk)
                while let newline = body.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = body.readSlice(length: newline - body.readerIndex + 1)!
                    continuation.yield(line)
                }
                body.discardReadBytes()
            } else {
                body.writeBuffer(&chunk)
            }
        case .end:
            let finished = receiver
            let keepAlive = head?.isKeepAlive ?? false
            let status = head?.status ?? .internalServerError
            receiver = nil
            timer?.cancel()
            switch finished {
            case .whole(let promise):
                promise.succeed(EtcdHTTPResponse(status: status, body: body))
            case .lines(let continuation):
                if status == .ok {
                    if body.readableBytes > 0 { continuation.yield(body) }
                    continuation.finish()
                } else {
                    continuation.finish(throwing: EtcdTransportError.status(status, body))
                }
            case nil:
                break
            }
            body = ByteBuffer()
            if !keepAlive { context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(EtcdTransportError.dropped("connection closed by \(host)"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAndClose(context: context, EtcdTransportError.dropped("\(error)"))
    }

    private func failAndClose(context: ChannelHandlerContext, _ error: EtcdTransportError) {
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: EtcdTransportError) {
        timer?.cancel()
        timer = nil
        guard let pending = receiver else { return }
        receiver = nil
        Self.fail(pending, error)
    }

    private static func fail(_ receiver: EtcdHTTPReceiver, _ error: EtcdTransportError) {
        switch receiver {
        case .whole(let promise): promise.fail(error)
        case .lines(let continuation): continuation.finish(throwing: error)
        }
    }
}
