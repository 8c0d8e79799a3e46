import NIOCore

/// RFC 7766 §8 / RFC 1035 §4.2.2: on TCP each message is preceded by its 16-bit length. A frame decoder
/// of its own (eight lines) rather than swift-nio-extras' `LengthFieldBasedFrameDecoder`, to keep the
/// appliance's dependency set as it is.
struct DNSFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            buffer.readableBytes >= 2 + Int(length)
        else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        context.fireChannelRead(NIOAny(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}
