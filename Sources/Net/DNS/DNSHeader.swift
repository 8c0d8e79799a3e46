/// The fixed 12-byte header (RFC 1035 §4.1.1) without its counts, which the message derives from its
/// sections. The flag word is kept whole, so the reserved Z bit round-trips.
public struct DNSHeader: Sendable, Hashable {
    public var id: UInt16
    public var flags: UInt16

    public init(id: UInt16 = 0, flags: UInt16 = 0) {
        self.id = id
        self.flags = flags
    }

    private func bit(_ shift: UInt16) -> Bool { flags >> shift & 1 == 1 }
    private mutating func set(_ shift: UInt16, _ on: Bool) {
        flags = on ? flags | 1 << shift : flags & ~(1 << shift)
    }

    public var isResponse: Bool { get { bit(15) } set { set(15, newValue) } }
    public var opcode: DNSOpcode {
        get { DNSOpcode(rawValue: UInt8(flags >> 11 & 0xF)) }
        set { flags = flags & ~(0xF << 11) | UInt16(newValue.rawValue & 0xF) << 11 }
    }
    public var authoritative: Bool { get { bit(10) } set { set(10, newValue) } }
    public var truncated: Bool { get { bit(9) } set { set(9, newValue) } }
    public var recursionDesired: Bool { get { bit(8) } set { set(8, newValue) } }
    public var recursionAvailable: Bool { get { bit(7) } set { set(7, newValue) } }
    /// RFC 4035 §3.2.3; the appliance never sets it (it does not validate).
    public var authenticData: Bool { get { bit(5) } set { set(5, newValue) } }
    /// RFC 4035 §3.2.2; copied from query to response.
    public var checkingDisabled: Bool { get { bit(4) } set { set(4, newValue) } }
    /// The low four bits of the response code; the OPT record carries the high eight (RFC 6891 §6.1.3).
    public var rcodeLow: UInt8 {
        get { UInt8(flags & 0xF) }
        set { flags = flags & ~0xF | UInt16(newValue & 0xF) }
    }
}

/// A question (RFC 1035 §4.1.2).
public struct DNSQuestion: Sendable, Hashable {
    public var name: DNSName
    public var type: DNSRecordType
    public var `class`: DNSClass

    public init(name: DNSName, type: DNSRecordType, class: DNSClass = .in) {
        self.name = name
        self.type = type
        self.class = `class`
    }

    init(parsing reader: inout DNSWireReader) throws(DNSParseError) {
        name = try reader.readName("qname")
        type = DNSRecordType(rawValue: try reader.readUInt16("qtype"))
        `class` = DNSClass(rawValue: try reader.readUInt16("qclass"))
    }

    func write(to writer: inout DNSWireWriter) {
        writer.write(name)
        writer.write(type.rawValue)
        writer.write(`class`.rawValue)
    }
}

/// EDNS(0) as the OPT pseudo-record carries it (RFC 6891 §6.1.2–6.1.3).
public struct DNSEDNS: Sendable, Hashable {
    /// The largest UDP payload the sender can reassemble (the OPT CLASS field).
    public var udpPayloadSize: UInt16
    /// The high eight bits of the 12-bit response code.
    public var extendedRCode: UInt8
    public var version: UInt8
    /// The DO bit and the rest of the flags, as sent (RFC 3225).
    public var flags: UInt16
    /// Options as (code, data), in order, unparsed.
    public var options: [DNSEDNSOption]

    public init(udpPayloadSize: UInt16 = 1232, extendedRCode: UInt8 = 0, version: UInt8 = 0, flags: UInt16 = 0, options: [DNSEDNSOption] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRCode = extendedRCode
        self.version = version
        self.flags = flags
        self.options = options
    }

    init(record: DNSResourceRecord) throws(DNSParseError) {
        guard record.name.isRoot else { throw .badOPT("owner is not the root") }
        guard case .opaque(_, let bytes) = record.data else { throw .badOPT("no data") }
        udpPayloadSize = record.class.rawValue
        extendedRCode = UInt8(record.ttl >> 24)
        version = UInt8(record.ttl >> 16 & 0xFF)
        flags = UInt16(record.ttl & 0xFFFF)
        options = []
        var index = 0
        while index < bytes.count {
            guard index + 4 <= bytes.count else { throw .badOPT("option header past the end") }
            let code = UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard index + 4 + length <= bytes.count else { throw .badOPT("option \(code) past the end") }
            options.append(DNSEDNSOption(code: code, data: Array(bytes[(index + 4)..<(index + 4 + length)])))
            index += 4 + length
        }
    }

    var record: DNSResourceRecord {
        var bytes: [UInt8] = []
        for option in options {
            bytes += [UInt8(option.code >> 8), UInt8(option.code & 0xFF), UInt8(option.data.count >> 8), UInt8(option.data.count & 0xFF)]
            bytes += option.data
        }
        return DNSResourceRecord(
            name: .root, class: DNSClass(rawValue: udpPayloadSize),
            ttl: UInt32(extendedRCode) << 24 | UInt32(version) << 16 | UInt32(flags), data: .opaque(.opt, bytes))
    }

    /// RFC 3225: the DNSSEC OK bit.
    public var dnssecOK: Bool { flags & 0x8000 != 0 }
}

public struct DNSEDNSOption: Sendable, Hashable {
    public var code: UInt16
    public var data: [UInt8]

    public init(code: UInt16, data: [UInt8]) {
        self.code = code
        self.data = data
    }
}
