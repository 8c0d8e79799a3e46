import NIOCore

/// Why a datagram is not a TFTP packet. A responder drops and counts it; it never answers one.
public enum TFTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The datagram ends inside a fixed-size field.
    case truncated(field: String, needed: Int, available: Int)
    /// An opcode outside RFC 1350 §5 and RFC 2347.
    case unknownOpcode(UInt16)
    /// A NUL-terminated string without its NUL.
    case missingTerminator(field: String)
    /// A string that is not UTF-8 (RFC 1350 names are NVT ASCII).
    case invalidText(field: String)
    /// An option name at the end of the datagram with no value after it (RFC 2347 §2).
    case optionWithoutValue(String)
    /// Bytes left after a complete packet.
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case .truncated(let field, let needed, let available):
            return "truncated \(field): needs \(needed) bytes, \(available) left"
        case .unknownOpcode(let opcode): return "unknown opcode \(opcode)"
        case .missingTerminator(let field): return "\(field) has no NUL terminator"
        case .invalidText(let field): return "\(field) is not UTF-8"
        case .optionWithoutValue(let name): return "option '\(name)' has no value"
        case .trailingBytes(let count): return "\(count) bytes after the packet"
        }
    }
}

extension ByteBuffer {
    mutating func readTFTPUInt16(field: String) throws(TFTPParseError) -> UInt16 {
        guard let value = readInteger(as: UInt16.self) else {
            throw .truncated(field: field, needed: 2, available: readableBytes)
        }
        return value
    }

    /// Reads a NUL-terminated UTF-8 string (RFC 1350 §5 "netascii string ... terminated by a zero byte").
    mutating func readTFTPString(field: String) throws(TFTPParseError) -> String {
        guard let nul = readableBytesView.firstIndex(of: 0) else { throw .missingTerminator(field: field) }
        let length = nul - readerIndex
        let text = readableBytesView[readerIndex..<nul].withContiguousStorageIfAvailable {
            String(validating: $0, as: UTF8.self)
        } ?? String(validating: Array(readableBytesView[readerIndex..<nul]), as: UTF8.self)
        guard let text else { throw .invalidText(field: field) }
        moveReaderIndex(forwardBy: length + 1)
        return text
    }

    mutating func writeTFTPString(_ text: String) {
        writeString(text)
        writeInteger(UInt8(0))
    }
}
