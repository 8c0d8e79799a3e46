import NIOCore
import Net
import Testing

/// Hand-built vectors: byte literals with a comment per field, each parsed and written back.
@Suite struct TFTPPacketTests {
    struct Vector: Sendable, CustomStringConvertible {
        var name: String
        var bytes: [UInt8]
        var packet: TFTPPacket
        var description: String { name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "RRQ with options",
            bytes: [0, 1]  // opcode RRQ
                + Array("pxelinux.0".utf8) + [0]  // filename
                + Array("octet".utf8) + [0]  // mode
                + Array("blksize".utf8) + [0] + Array("1432".utf8) + [0]  // RFC 2348
                + Array("tsize".utf8) + [0] + Array("0".utf8) + [0],  // RFC 2349
            packet: .readRequest(TFTPRequest(filename: "pxelinux.0", mode: "octet", options: ["blksize": "1432", "tsize": "0"]))),
        Vector(
            name: "WRQ netascii",
            bytes: [0, 2] + Array("up.txt".utf8) + [0] + Array("netascii".utf8) + [0],
            packet: .writeRequest(TFTPRequest(filename: "up.txt", mode: "netascii"))),
        Vector(
            name: "DATA",
            bytes: [0, 3, 0x01, 0x02] + [0xDE, 0xAD],  // opcode, block 258, payload
            packet: .data(block: 258, payload: ByteBuffer(bytes: [0xDE, 0xAD]))),
        Vector(name: "empty DATA", bytes: [0, 3, 0xFF, 0xFF], packet: .data(block: 65535, payload: ByteBuffer())),
        Vector(name: "ACK", bytes: [0, 4, 0, 0], packet: .ack(block: 0)),
        Vector(
            name: "ERROR",
            bytes: [0, 5, 0, 1] + Array("File not found".utf8) + [0],  // opcode, code 1, message
            packet: .error(code: .fileNotFound, message: "File not found")),
        Vector(
            name: "OACK",
            bytes: [0, 6] + Array("windowsize".utf8) + [0] + Array("16".utf8) + [0],  // RFC 7440
            packet: .optionAck(["windowsize": "16"])),
        Vector(name: "empty OACK", bytes: [0, 6], packet: .optionAck([:])),
    ]

    @Test(arguments: vectors)
    func parsesAndWritesGoldenBytes(vector: Vector) throws {
        var buffer = ByteBuffer(bytes: vector.bytes)
        let packet = try TFTPPacket(parsing: &buffer)
        #expect(packet == vector.packet)
        #expect(Array(packet.bytes().readableBytesView) == vector.bytes)
    }

    struct Bad: Sendable, CustomStringConvertible {
        var bytes: [UInt8]
        var error: TFTPParseError
        var description: String { "\(error)" }
    }

    static let bad: [Bad] = [
        Bad(bytes: [], error: .truncated(field: "opcode", needed: 2, available: 0)),
        Bad(bytes: [0], error: .truncated(field: "opcode", needed: 2, available: 1)),
        Bad(bytes: [0, 9], error: .unknownOpcode(9)),
        Bad(bytes: [0, 0], error: .unknownOpcode(0)),
        Bad(bytes: [0, 1] + Array("file".utf8), error: .missingTerminator(field: "filename")),
        Bad(bytes: [0, 1, 0x66, 0] + Array("octet".utf8), error: .missingTerminator(field: "mode")),
        Bad(bytes: [0, 1, 0x66, 0, 0x6F, 0, 0x62, 0], error: .optionWithoutValue("b")),
        Bad(bytes: [0, 1, 0x66, 0, 0x6F, 0, 0x62, 0, 0x31], error: .missingTerminator(field: "option value")),
        Bad(bytes: [0, 1, 0xFF, 0xFE, 0, 0x6F, 0], error: .invalidText(field: "filename")),
        Bad(bytes: [0, 3, 0], error: .truncated(field: "block", needed: 2, available: 1)),
        Bad(bytes: [0, 4, 0, 1, 0], error: .trailingBytes(1)),
        Bad(bytes: [0, 5, 0, 1] + Array("no nul".utf8), error: .missingTerminator(field: "error message")),
        Bad(bytes: [0, 5, 0, 1, 0x41, 0, 0x42], error: .trailingBytes(1)),
        Bad(bytes: [0, 6, 0x61, 0], error: .optionWithoutValue("a")),
    ]

    @Test(arguments: bad)
    func rejectsMalformed(bad: Bad) {
        #expect(throws: bad.error) {
            var buffer = ByteBuffer(bytes: bad.bytes)
            _ = try TFTPPacket(parsing: &buffer)
        }
    }

    /// The in-place ACK reader answers exactly where the parser finds an ACK, with the same block.
    @Test(arguments: vectors.map(\.bytes) + bad.map(\.bytes) + [[0, 4, 0xAB, 0xCD], [0, 4, 0xFF, 0xFF], [1, 4, 0, 1], [0, 4, 0]])
    func readsAnAckInPlaceAsTheParserDoes(bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        let parsed: UInt16? = if case .ack(let block)? = try? TFTPPacket(parsing: &buffer) { block } else { nil }
        #expect(bytes.withUnsafeBytes { TFTPPacket.acknowledgedBlock(in: $0) } == parsed)
    }

    @Test func modesAndOptionNamesAreCaseInsensitive() {
        let request = TFTPRequest(filename: "f", mode: "OcTeT", options: ["BLKSIZE": "1024"])
        #expect(request.transferMode == .octet)
        #expect(request.options["blksize"] == "1024")
        #expect(TFTPRequest(filename: "f", mode: "mail").transferMode == nil)
    }
}
