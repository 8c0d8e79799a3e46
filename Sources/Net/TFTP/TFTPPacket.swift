public import NIOCore

/// One TFTP datagram (RFC 1350 §5, with the OACK of RFC 2347).
///
/// Parsing and writing mirror each other: `TFTPPacket(parsing:)` consumes exactly one datagram and
/// `write(to:)` produces bytes that parse back to the same value.
public enum TFTPPacket: Sendable, Hashable {
    /// RRQ, opcode 1 (RFC 1350 §5).
    case readRequest(TFTPRequest)
    /// WRQ, opcode 2 (RFC 1350 §5).
    case writeRequest(TFTPRequest)
    /// DATA, opcode 3: block numbers start at 1; a payload shorter than the block size ends the transfer.
    case data(block: UInt16, payload: ByteBuffer)
    /// ACK, opcode 4: block 0 acknowledges an OACK (RFC 2347).
    case ack(block: UInt16)
    /// ERROR, opcode 5: ends the transfer; never acknowledged or retransmitted (RFC 1350 §7).
    case error(code: TFTPErrorCode, message: String)
    /// OACK, opcode 6: the options the server accepted (RFC 2347).
    case optionAck(TFTPOptionList)

    public var opcode: TFTPOpcode {
        switch self {
        case .readRequest: return .readRequest
        case .writeRequest: return .writeRequest
        case .data: return .data
        case .ack: return .ack
        case .error: return .error
        case .optionAck: return .optionAck
        }
    }

    /// Parses one datagram; every byte must belong to the packet.
    public init(parsing buffer: inout ByteBuffer) throws(TFTPParseError) {
        let raw = try buffer.readTFTPUInt16(field: "opcode")
        guard let opcode = TFTPOpcode(rawValue: raw) else { throw .unknownOpcode(raw) }
        switch opcode {
        case .readRequest, .writeRequest:
            let request = try TFTPRequest(parsing: &buffer)
            self = opcode == .readRequest ? .readRequest(request) : .writeRequest(request)
        case .data:
            let block = try buffer.readTFTPUInt16(field: "block")
            self = .data(block: block, payload: buffer.readSlice(length: buffer.readableBytes)!)
        case .ack:
            let block = try buffer.readTFTPUInt16(field: "block")
            self = .ack(block: block)
        case .error:
            let code = try buffer.readTFTPUInt16(field: "error code")
            let message = try buffer.readTFTPString(field: "error message")
            self = .error(code: TFTPErrorCode(rawValue: code), message: message)
        case .optionAck:
            self = .optionAck(try TFTPOptionList(parsing: &buffer))
        }
        guard buffer.readableBytes == 0 else { throw .trailingBytes(buffer.readableBytes) }
    }

    /// The block an ACK datagram acknowledges, read in place; nil for every other datagram, which
    /// `init(parsing:)` then takes (it parses an ACK to the same block). A lock-step transfer receives
    /// one ACK per block, and the blocking adapter reads them without building a packet.
    public static func acknowledgedBlock(in datagram: UnsafeRawBufferPointer) -> UInt16? {
        guard datagram.count == 4, datagram[0] == 0, datagram[1] == UInt8(TFTPOpcode.ack.rawValue) else { return nil }
        return UInt16(datagram[2]) << 8 | UInt16(datagram[3])
    }

    /// Writes the datagram: the mirror image of `init(parsing:)`.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(opcode.rawValue)
        switch self {
        case .readRequest(let request), .writeRequest(let request):
            request.write(to: &buffer)
        case .data(let block, let payload):
            buffer.writeInteger(block)
            buffer.writeImmutableBuffer(payload)
        case .ack(let block):
            buffer.writeInteger(block)
        case .error(let code, let message):
            buffer.writeInteger(code.rawValue)
            buffer.writeTFTPString(message)
        case .optionAck(let options):
            options.write(to: &buffer)
        }
    }

    /// The packet as one datagram.
    public func bytes(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        write(to: &buffer)
        return buffer
    }
}

/// The opcodes of RFC 1350 §5 and RFC 2347.
public enum TFTPOpcode: UInt16, Sendable, Hashable {
    case readRequest = 1
    case writeRequest = 2
    case data = 3
    case ack = 4
    case error = 5
    case optionAck = 6
}
