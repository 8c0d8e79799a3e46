import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import OSIS

/// The gateway client's channel handler, fed real HTTP/1.1 bytes in an `EmbeddedChannel`.
@Suite struct EtcdHTTPHandlerTests {
    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHTTPClientHandlers()
        try channel.pipeline.syncOperations.addHandler(EtcdHTTPHandler(host: "127.0.0.1:2379", timeout: .seconds(15)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2379)).wait()
        return channel
    }

    func request(_ path: String, _ receiver: EtcdHTTPReceiver) -> EtcdHTTPRequest {
        EtcdHTTPRequest(path: path, body: ByteBuffer(string: "{}"), receiver: receiver)
    }

    func sent(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += buffer.readString(length: buffer.readableBytes)!
        }
        return text
    }

    @Test func unaryCallWritesAJSONPostAndGathersTheAnswer() throws {
        let channel = try channel()
        let promise = channel.eventLoop.makePromise(of: EtcdHTTPResponse.self)
        try channel.writeOutbound(request("/v3/kv/range", .whole(promise)))
        let request = try sent(channel)
        #expect(request.hasPrefix("POST /v3/kv/range HTTP/1.1\r\n"))
        #expect(request.contains("Content-Type: application/json\r\n") && request.contains("Content-Length: 2\r\n"))
        #expect(request.hasSuffix("\r\n\r\n{}"))

        try channel.writeInbound(ByteBuffer(
            string: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"header\":{}}"))
        let response = try promise.futureResult.wait()
        #expect(response.status == .ok && String(buffer: response.body) == #"{"header":{}}"#)
        #expect(channel.isActive)  // kept alive for the next call
    }

    @Test func streamYieldsWholeLinesAcrossChunkBoundaries() async throws {
        let channel = try channel()
        let (lines, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self, throwing: (any Error).self)
        try channel.writeOutbound(request("/v3/watch", .lines(continuation)))
        #expect(try sent(channel).contains("Grpc-Metadata-Hasleader: true\r\n"))
        // The gateway's chunks need not end at a newline: here one line spans two chunks.
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
        try channel.writeInbound(ByteBuffer(string: "d\r\n{\"a\":1}\n{\"b\":\r\n"))
        try channel.writeInbound(ByteBuffer(string: "3\r\n2}\n\r\n"))
        channel.close(promise: nil)
        channel.embeddedEventLoop.run()
        var received: [String] = []
        do {
            for try await line in lines { received.append(String(buffer: line)) }
            Issue.record("a stream cut by the connection must fail")
        } catch let error as EtcdTransportError {
            guard case .dropped = error else { throw error }
        }
        #expect(received == ["{\"a\":1}\n", "{\"b\":2}\n"])
    }

    @Test func connectionLostBeforeTheAnswerFailsTheCall() throws {
        let channel = try channel()
        let promise = channel.eventLoop.makePromise(of: EtcdHTTPResponse.self)
        try channel.writeOutbound(request("/v3/kv/put", .whole(promise)))
        channel.close(promise: nil)
        channel.embeddedEventLoop.run()
        #expect(throws: EtcdTransportError.self) { try promise.futureResult.wait() }
    }

    @Test func unansweredCallTimesOutAndClosesTheConnection() throws {
        let channel = try channel()
        let promise = channel.eventLoop.makePromise(of: EtcdHTTPResponse.self)
        try channel.writeOutbound(EtcdHTTPRequest(path: "/v3/kv/put", body: ByteBuffer(), receiver: .whole(promise)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(16))
        #expect(throws: EtcdTransportError.self) { try promise.futureResult.wait() }
        #expect(!channel.isActive)
    }
}
