public import NIOCore

/// One DHCP message (RFC 2131 §2): the BOOTP header, then options after the magic cookie.
///
/// `init(parsing:)` and `write(to:maxSize:)` mirror each other. Options that came in `file` or `sname`
/// through option overload (RFC 2132 §9.3) are moved into `options` on parsing, and written back there
/// only when the options field is too small for the client's maximum message size.
public struct DHCPMessage: Sendable, Hashable {
    public static let magicCookie: UInt32 = 0x6382_5363
    /// The header up to and including the cookie.
    static let headerSize = 240
    /// RFC 2131 §2: every client accepts messages of 576 bytes (IP and UDP headers included).
    public static let minimumMaxSize = 576
    /// The smallest BOOTP message some old relays and clients accept (RFC 1542 §2.1).
    static let bootpMinimumSize = 300

    public enum Opcode: UInt8, Sendable, Hashable {
        case request = 1
        case reply = 2
    }

    public var op: Opcode
    public var htype: UInt8
    public var hlen: UInt8
    public var hops: UInt8
    public var xid: UInt32
    public var secs: UInt16
    public var flags: UInt16
    public var ciaddr: IPv4Address
    public var yiaddr: IPv4Address
    public var siaddr: IPv4Address
    public var giaddr: IPv4Address
    /// The whole 16-byte field; the hardware address is its first `hlen` bytes.
    public var chaddr: [UInt8]
    /// 64 bytes: server host name, or options under overload.
    public var sname: [UInt8]
    /// 128 bytes: boot file name, or options under overload.
    public var file: [UInt8]
    public var options: DHCPOptions
    /// Bytes after the end option (padding to BOOTP's 300 bytes, usually zeros), kept so captures round-trip.
    public var trailer: [UInt8]

    public init(
        op: Opcode, htype: UInt8 = 1, hlen: UInt8 = 6, hops: UInt8 = 0, xid: UInt32, secs: UInt16 = 0, flags: UInt16 = 0,
        ciaddr: IPv4Address = .any, yiaddr: IPv4Address = .any, siaddr: IPv4Address = .any, giaddr: IPv4Address = .any,
        chaddr: [UInt8], sname: [UInt8] = [], file: [UInt8] = [], options: DHCPOptions = DHCPOptions(), trailer: [UInt8] = []
    ) {
        self.op = op
        self.htype = htype
        self.hlen = hlen
        self.hops = hops
        self.xid = xid
        self.secs = secs
        self.flags = flags
        self.ciaddr = ciaddr
        self.yiaddr = yiaddr
        self.siaddr = siaddr
        self.giaddr = giaddr
        self.chaddr = Self.fixed(chaddr, 16)
        self.sname = Self.fixed(sname, 64)
        self.file = Self.fixed(file, 128)
        self.options = options
        self.trailer = trailer
    }

    /// The broadcast bit of `flags` (RFC 2131 §2, figure 2).
    public var broadcast: Bool {
        get { flags & 0x8000 != 0 }
        set { flags = newValue ? flags | 0x8000 : flags & ~0x8000 }
    }

    /// The client hardware address: the first `hlen` bytes of `chaddr`.
    public var hardwareAddress: HardwareAddress { HardwareAddress(type: htype, bytes: Array(chaddr.prefix(Int(hlen)))) }

    public var messageType: DHCPMessageType? { options[.messageType].flatMap { $0.count == 1 ? DHCPMessageType(rawValue: $0[0]) : nil } }

    /// Parses one datagram. The whole datagram belongs to the message: bytes after the end option are its trailer.
    public init(parsing buffer: inout ByteBuffer) throws(DHCPParseError) {
        let available = buffer.readableBytes
        guard available >= Self.headerSize, let bytes = buffer.readBytes(length: available) else {
            throw .truncated(field: available < 236 ? "header" : "magic cookie", needed: Self.headerSize, available: available)
        }
        guard let op = Opcode(rawValue: bytes[0]) else { throw .badOpcode(bytes[0]) }
        guard bytes[2] <= 16 else { throw .badHardwareLength(bytes[2]) }
        let cookie = Self.uint32(bytes, 236)
        guard cookie == Self.magicCookie else { throw .badMagicCookie(cookie) }
        self.op = op
        htype = bytes[1]
        hlen = bytes[2]
        hops = bytes[3]
        xid = Self.uint32(bytes, 4)
        secs = UInt16(bytes[8]) << 8 | UInt16(bytes[9])
        flags = UInt16(bytes[10]) << 8 | UInt16(bytes[11])
        ciaddr = IPv4Address(Self.uint32(bytes, 12))
        yiaddr = IPv4Address(Self.uint32(bytes, 16))
        siaddr = IPv4Address(Self.uint32(bytes, 20))
        giaddr = IPv4Address(Self.uint32(bytes, 24))
        chaddr = Array(bytes[28..<44])
        sname = Array(bytes[44..<108])
        file = Array(bytes[108..<236])

        var options = DHCPOptions()
        // The options field ends at the end option; what follows is the trailer. RFC 2131 asks for an end
        // option, but clients that fill the datagram exactly without one are accepted, as Kea and dnsmasq do.
        let area = bytes[Self.headerSize...]
        var end = area.endIndex
        if let found = Self.endOfOptions(area) { end = found }
        try options.parse(area[..<end], area: .options)
        trailer = end < area.endIndex ? Array(area[(end + 1)...]) : []
        if let overload = options[.overload] {
            guard overload.count == 1, (1...3).contains(overload[0]) else { throw .badOverload(overload) }
            options[.overload] = nil
            // RFC 3396 §6: options, then file, then sname.
            if overload[0] & 1 != 0 {
                try options.parse(file[...], area: .file)
                file = Array(repeating: 0, count: 128)
            }
            if overload[0] & 2 != 0 {
                try options.parse(sname[...], area: .sname)
                sname = Array(repeating: 0, count: 64)
            }
        }
        // Written last whatever its place (RFC 3046 §2.1), so it is kept last: a message written back
        // parses to the same value (a fuzz crasher had 82 in the middle).
        if let relay = options[.relayAgentInformation] {
            options[.relayAgentInformation] = nil
            options[.relayAgentInformation] = relay
        }
        self.options = options
    }

    /// The index of the end option in an options area, walking code-length-value instances.
    static func endOfOptions(_ area: ArraySlice<UInt8>) -> Int? {
        var index = area.startIndex
        while index < area.endIndex {
            switch area[index] {
            case DHCPOptionCode.end.rawValue: return index
            case DHCPOptionCode.pad.rawValue: index += 1
            default:
                guard index + 1 < area.endIndex else { return nil }
                index += 2 + Int(area[index + 1])
            }
        }
        return nil
    }

    /// Writes the message. With `maxSize` (the client's maximum DHCP message size, option 57, without
    /// IP and UDP headers), options that do not fit the options field go into `file` and then `sname`
    /// when those are unused (RFC 2132 §9.3); what fits nowhere is left out and returned.
    @discardableResult
    public func write(to buffer: inout ByteBuffer, maxSize: Int? = nil) -> [DHCPOptionCode] {
        buffer.writeInteger(op.rawValue)
        buffer.writeInteger(htype)
        buffer.writeInteger(hlen)
        buffer.writeInteger(hops)
        buffer.writeInteger(xid)
        buffer.writeInteger(secs)
        buffer.writeInteger(flags)
        for address in [ciaddr, yiaddr, siaddr, giaddr] { buffer.writeInteger(address.value) }
        buffer.writeBytes(chaddr)
        let encoded = options.encoded()
        guard let maxSize, Self.headerSize + encoded.count + 1 > maxSize else {
            buffer.writeBytes(sname)
            buffer.writeBytes(file)
            buffer.writeInteger(Self.magicCookie)
            buffer.writeBytes(encoded)
            buffer.writeInteger(DHCPOptionCode.end.rawValue)
            buffer.writeBytes(trailer)
            return []
        }
        return writeOverloaded(encoded, to: &buffer, maxSize: maxSize)
    }

    private func writeOverloaded(_ encoded: [UInt8], to buffer: inout ByteBuffer, maxSize: Int) -> [DHCPOptionCode] {
        let fileFree = file.allSatisfy { $0 == 0 }
        let snameFree = sname.allSatisfy { $0 == 0 }
        // Room for the overload option (3 bytes) and an end option in the options field.
        var areas: [(capacity: Int, bytes: [UInt8])] = [(max(maxSize - Self.headerSize - 4, 0), [])]
        if fileFree { areas.append((127, [])) }
        if snameFree { areas.append((63, [])) }
        var left: [DHCPOptionCode] = []
        var area = 0
        for instance in DHCPOptions.instances(encoded) {
            while area < areas.count, areas[area].bytes.count + instance.count > areas[area].capacity { area += 1 }
            guard area < areas.count else {
                left.append(DHCPOptionCode(instance.first!))
                area = areas.count - 1
                continue
            }
            areas[area].bytes += instance
        }
        let usesFile = fileFree && areas[1].bytes.count > 0
        let snameIndex = fileFree ? 2 : 1
        let usesSname = snameFree && areas.count > snameIndex && areas[snameIndex].bytes.count > 0
        let overload: UInt8 = (usesFile ? 1 : 0) | (usesSname ? 2 : 0)
        buffer.writeBytes(usesSname ? Self.fixed(areas[snameIndex].bytes + [255], 64) : sname)
        buffer.writeBytes(usesFile ? Self.fixed(areas[1].bytes + [255], 128) : file)
        buffer.writeInteger(Self.magicCookie)
        if overload != 0 { buffer.writeBytes([DHCPOptionCode.overload.rawValue, 1, overload]) }
        buffer.writeBytes(areas[0].bytes)
        buffer.writeInteger(DHCPOptionCode.end.rawValue)
        return left
    }

    public func bytes(maxSize: Int? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(Self.bootpMinimumSize + 64)
        write(to: &buffer, maxSize: maxSize)
        return buffer
    }

    static func fixed(_ bytes: [UInt8], _ count: Int) -> [UInt8] {
        bytes.count >= count ? Array(bytes.prefix(count)) : bytes + Array(repeating: 0, count: count - bytes.count)
    }

    static func uint32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}

/// A client hardware address (`htype`, then `hlen` bytes of `chaddr`); Ethernet MACs print as `aa:bb:…`.
public struct HardwareAddress: Sendable, Hashable, CustomStringConvertible {
    public var type: UInt8
    public var bytes: [UInt8]

    public init(type: UInt8 = 1, bytes: [UInt8]) {
        self.type = type
        self.bytes = bytes
    }

    /// Parses `aa:bb:cc:dd:ee:ff` (Ethernet).
    public init?(mac: String) {
        let parts = mac.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.init(type: 1, bytes: bytes)
    }

    /// Lower-case colon form, the machine id the inventory uses.
    public var description: String {
        bytes.hexDigits(separator: UInt8(ascii: ":"))
    }
}
