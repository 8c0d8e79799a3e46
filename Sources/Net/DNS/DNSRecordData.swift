/// The RDATA of a record, typed for the types the appliance serves and opaque for every other
/// (RFC 3597 §2: unknown types are carried, compared and written back byte for byte).
public enum DNSRecordData: Sendable, Hashable {
    /// RFC 1035 §3.4.1.
    case a(IPv4Address)
    /// RFC 3596 §2.2: 16 octets.
    case aaaa([UInt8])
    case ns(DNSName)
    case cname(DNSName)
    case ptr(DNSName)
    /// RFC 1035 §3.3.9.
    case mx(preference: UInt16, exchange: DNSName)
    /// One or more character-strings of at most 255 octets each (RFC 1035 §3.3.14).
    case txt([[UInt8]])
    /// RFC 2782.
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    /// RFC 1035 §3.3.13.
    case soa(DNSSOA)
    /// Any other type (and OPT's options), as the bytes on the wire.
    case opaque(DNSRecordType, [UInt8])

    public var type: DNSRecordType {
        switch self {
        case .a: return .a
        case .aaaa: return .aaaa
        case .ns: return .ns
        case .cname: return .cname
        case .ptr: return .ptr
        case .mx: return .mx
        case .txt: return .txt
        case .srv: return .srv
        case .soa: return .soa
        case .opaque(let type, _): return type
        }
    }

    /// Reads `length` bytes of RDATA of `type`; they must be consumed exactly.
    init(parsing reader: inout DNSWireReader, type: DNSRecordType, length: Int) throws(DNSParseError) {
        let end = reader.offset + length
        guard end <= reader.bytes.count else { throw .truncated(field: "rdata", offset: reader.offset) }
        switch type {
        case .a:
            guard length == 4 else { throw .badRecordData(type: type, length: length) }
            self = .a(IPv4Address(try reader.readUInt32("A")))
        case .aaaa:
            guard length == 16 else { throw .badRecordData(type: type, length: length) }
            self = .aaaa(try reader.readBytes(16, "AAAA"))
        case .ns: self = .ns(try reader.readName("NS"))
        case .cname: self = .cname(try reader.readName("CNAME"))
        case .ptr: self = .ptr(try reader.readName("PTR"))
        case .mx:
            self = .mx(preference: try reader.readUInt16("MX preference"), exchange: try reader.readName("MX exchange"))
        case .srv:
            self = .srv(
                priority: try reader.readUInt16("SRV priority"), weight: try reader.readUInt16("SRV weight"),
                port: try reader.readUInt16("SRV port"), target: try reader.readName("SRV target"))
        case .soa:
            self = .soa(
                DNSSOA(
                    primary: try reader.readName("SOA mname"), mailbox: try reader.readName("SOA rname"),
                    serial: try reader.readUInt32("SOA serial"), refresh: try reader.readUInt32("SOA refresh"),
                    retry: try reader.readUInt32("SOA retry"), expire: try reader.readUInt32("SOA expire"),
                    minimum: try reader.readUInt32("SOA minimum")))
        case .txt:
            guard length > 0 else { throw .badRecordData(type: type, length: length) }
            var strings: [[UInt8]] = []
            while reader.offset < end {
                let count = Int(try reader.readUInt8("TXT length"))
                guard reader.offset + count <= end else { throw .badRecordData(type: type, length: length) }
                strings.append(try reader.readBytes(count, "TXT"))
            }
            self = .txt(strings)
        default:
            self = .opaque(type, try reader.readBytes(length, "rdata"))
        }
        // A name or string running past RDLENGTH, or stopping short of it, makes the record malformed.
        guard reader.offset == end else { throw .badRecordData(type: type, length: length) }
    }

    /// Writes the RDATA (without RDLENGTH). Names in the RFC 1035 types are compressed; SRV's target is
    /// not (RFC 2782 "name compression is not to be used for this field").
    func write(to writer: inout DNSWireWriter) {
        switch self {
        case .a(let address): writer.write(address.value)
        case .aaaa(let bytes): writer.write(bytes)
        case .ns(let name), .cname(let name), .ptr(let name): writer.write(name)
        case .mx(let preference, let exchange):
            writer.write(preference)
            writer.write(exchange)
        case .txt(let strings):
            for string in strings {
                writer.write(UInt8(string.count))
                writer.write(string)
            }
        case .srv(let priority, let weight, let port, let target):
            writer.write(priority)
            writer.write(weight)
            writer.write(port)
            writer.write(target, compress: false)
        case .soa(let soa):
            writer.write(soa.primary)
            writer.write(soa.mailbox)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writer.write(value) }
        case .opaque(_, let bytes): writer.write(bytes)
        }
    }

    /// The name a record points at, for additional-section processing (RFC 1035 §3.3: NS, MX, SRV).
    var target: DNSName? {
        switch self {
        case .ns(let name), .mx(_, let name), .srv(_, _, _, let name): return name
        default: return nil
        }
    }
}

/// The SOA fields (RFC 1035 §3.3.13); times in seconds.
public struct DNSSOA: Sendable, Hashable {
    public var primary: DNSName
    public var mailbox: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    /// The negative-caching TTL (RFC 2308 §4).
    public var minimum: UInt32

    public init(
        primary: DNSName, mailbox: DNSName, serial: UInt32, refresh: UInt32 = 3600, retry: UInt32 = 600,
        expire: UInt32 = 604800, minimum: UInt32 = 60
    ) {
        self.primary = primary
        self.mailbox = mailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}
