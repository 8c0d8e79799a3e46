/// Reads a DNS message from its bytes. Compression pointers are resolved against the whole message, so
/// the reader keeps all of it and an offset (RFC 1035 §4.1.4).
struct DNSWireReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func readUInt8(_ field: String) throws(DNSParseError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(field: field, offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16(_ field: String) throws(DNSParseError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw .truncated(field: field, offset: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32(_ field: String) throws(DNSParseError) -> UInt32 {
        let high = try readUInt16(field), low = try readUInt16(field)
        return UInt32(high) << 16 | UInt32(low)
    }

    mutating func readBytes(_ count: Int, _ field: String) throws(DNSParseError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw .truncated(field: field, offset: offset) }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// Reads a possibly compressed name. Every pointer must point before the start of the name, or of the
    /// part it jumped to last (RFC 1035 §4.1.4 "a prior occurrence"): targets strictly decrease, which
    /// rules out loops and forward pointers and bounds the work by the message length.
    mutating func readName(_ field: String = "name") throws(DNSParseError) -> DNSName {
        var wire: [UInt8] = []
        wire.reserveCapacity(32)
        var position = offset
        var limit = offset
        var jumped = false
        while true {
            guard position < bytes.count else { throw .truncated(field: field, offset: position) }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0:
                if length == 0 {
                    wire.append(0)
                    if !jumped { offset = position + 1 }
                    guard wire.count <= 255 else { throw .nameTooLong }
                    return DNSName(uncheckedWire: wire)
                }
                let end = position + 1 + Int(length)
                guard end <= bytes.count else { throw .truncated(field: field, offset: position) }
                wire.append(length)
                wire += bytes[(position + 1)..<end]
                guard wire.count < 255 else { throw .nameTooLong }
                position = end
            case 0xC0:
                guard position + 2 <= bytes.count else { throw .truncated(field: field, offset: position) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < limit else { throw .badPointer(target: target, offset: position) }
                if !jumped { offset = position + 2 }
                jumped = true
                position = target
                limit = target
            default:
                throw .badLabelType(length, offset: position)
            }
        }
    }
}
