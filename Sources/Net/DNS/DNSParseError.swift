/// Why bytes are not a DNS message. The responder answers FORMERR when it could read the header (so the
/// client learns its query is bad, RFC 1035 §4.1.1), and drops the datagram when it could not.
public enum DNSParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message ends inside a field.
    case truncated(field: String, offset: Int)
    /// A label length byte with the reserved top bits 01 or 10 (RFC 6891 §5 retired extended labels).
    case badLabelType(UInt8, offset: Int)
    /// A compression pointer that does not point strictly backwards (RFC 1035 §4.1.4): loops and forward
    /// pointers are both refused.
    case badPointer(target: Int, offset: Int)
    /// A name longer than 255 octets in wire form (RFC 1035 §3.1).
    case nameTooLong
    /// RDATA whose length does not match what its type needs.
    case badRecordData(type: DNSRecordType, length: Int)
    /// More than one OPT record, or an OPT record outside the additional section or not at the root
    /// (RFC 6891 §6.1.1).
    case badOPT(String)
    /// Bytes left after the counted records.
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case .truncated(let field, let offset): return "truncated \(field) at offset \(offset)"
        case .badLabelType(let byte, let offset): return "label type 0x\(String(byte, radix: 16)) at offset \(offset)"
        case .badPointer(let target, let offset): return "compression pointer at \(offset) to \(target) does not point backwards"
        case .nameTooLong: return "name longer than 255 octets"
        case .badRecordData(let type, let length): return "\(type) record data of \(length) bytes"
        case .badOPT(let why): return "bad OPT record: \(why)"
        case .trailingBytes(let count): return "\(count) bytes after the message"
        }
    }
}
