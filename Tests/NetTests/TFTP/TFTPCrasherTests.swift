import NIOCore
import Net
import Testing

/// Inputs that once broke the parser or the responder, each pinned with its story.
@Suite struct TFTPCrasherTests {
    /// curl 7.88's RRQ for a 30-character name was dropped as malformed: the service's vector reads gave each
    /// datagram 64 bytes. The parser was right; this pins the bytes, `TFTPWireTests.longRequestsAreRead` the fix.
    @Test func curlLongNameRequest() throws {
        let bytes: [UInt8] = [0, 1] + Array("../tftp-interop-outside-secret".utf8) + [0] + Array("octet".utf8) + [0]
            + Array("tsize".utf8) + [0, 0x30, 0] + Array("blksize".utf8) + [0] + Array("512".utf8) + [0]
            + Array("timeout".utf8) + [0, 0x36, 0]
        var buffer = ByteBuffer(bytes: bytes)
        let packet = try TFTPPacket(parsing: &buffer)
        #expect(packet.opcode == .readRequest)
        var responder = TFTPResponder()
        let decision = responder.handle(ByteBuffer(bytes: bytes), from: "127.0.0.1", now: .now())
        #expect(decision == .refuse(.accessViolation, message: "Access violation", reason: .path("refused: '..' in path")))
    }
}
