/// Constructors for the option shapes of RFC 2132 §2: addresses, integers, text, byte lists.
extension DHCPOption {
    /// A list of IPv4 addresses (RFC 2132 §3.5 router, §3.8 DNS servers, …).
    public static func addresses(_ code: DHCPOptionCode, _ addresses: [IPv4Address]) -> DHCPOption {
        DHCPOption(code, addresses.flatMap(\.octets))
    }

    public static func address(_ code: DHCPOptionCode, _ address: IPv4Address) -> DHCPOption {
        DHCPOption(code, address.octets)
    }

    /// A 32-bit unsigned value (RFC 2132 §9.2 lease time, §9.11 T1, §9.12 T2).
    public static func uint32(_ code: DHCPOptionCode, _ value: UInt32) -> DHCPOption {
        DHCPOption(code, [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)])
    }

    public static func uint16(_ code: DHCPOptionCode, _ value: UInt16) -> DHCPOption {
        DHCPOption(code, [UInt8(value >> 8), UInt8(value & 0xff)])
    }

    /// NVT ASCII text without a NUL (RFC 2132 §2: options are not NUL-terminated).
    public static func text(_ code: DHCPOptionCode, _ text: String) -> DHCPOption {
        DHCPOption(code, Array(text.utf8))
    }

    public static func messageType(_ type: DHCPMessageType) -> DHCPOption { DHCPOption(DHCPOptionCode.messageType, [type.rawValue]) }
}

extension DHCPOptions {
    public mutating func set(_ option: DHCPOption) { self[option.code] = option.value }

    /// Option 55 (RFC 2132 §9.8).
    public var parameterRequestList: [DHCPOptionCode] { (self[.parameterRequestList] ?? []).map { DHCPOptionCode($0) } }

    /// A one-address option, or nil when absent or not 4 bytes.
    public func address(_ code: DHCPOptionCode) -> IPv4Address? {
        guard let value = self[code], value.count == 4 else { return nil }
        return IPv4Address(value[0], value[1], value[2], value[3])
    }

    public func uint32(_ code: DHCPOptionCode) -> UInt32? {
        guard let value = self[code], value.count == 4 else { return nil }
        return value.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public func uint16(_ code: DHCPOptionCode) -> UInt16? {
        guard let value = self[code], value.count == 2 else { return nil }
        return UInt16(value[0]) << 8 | UInt16(value[1])
    }

    /// Text options, with trailing NULs dropped (some ROMs NUL-terminate option 60 and 67).
    public func text(_ code: DHCPOptionCode) -> String? {
        guard var value = self[code] else { return nil }
        while value.last == 0 { value.removeLast() }
        return String(decoding: value, as: UTF8.self)
    }

    /// Puts the options the client asked for (option 55) first, in its order, then the rest as they
    /// were added. Some PXE ROMs read only as far as they asked (RFC 2132 §9.8 "in the order of preference").
    public mutating func order(by requested: [DHCPOptionCode]) {
        // A table of all 256 codes rather than a dictionary: this runs for every reply.
        var rank = [Int](repeating: -1, count: 256)
        for (position, code) in requested.enumerated() where rank[Int(code.rawValue)] < 0 { rank[Int(code.rawValue)] = position }
        let keyed = all.enumerated().map { offset, option in
            // Message type first: some clients expect it there. Options not asked for keep their order, after.
            let requestedAt = rank[Int(option.code.rawValue)]
            return (key: option.code == .messageType ? -1 : requestedAt >= 0 ? requestedAt : requested.count + offset, option: option)
        }
        self = DHCPOptions(keyed.sorted { $0.key < $1.key }.map(\.option))
    }
}

/// Sub-options of an encapsulated option (RFC 3046 §2.0 for 82, RFC 2132 §8.4 for 43, iPXE's 175):
/// code-length-value without pad or end.
public struct DHCPSubOptions: Sendable, Hashable {
    public var all: [DHCPOption]

    public init(_ all: [DHCPOption] = []) { self.all = all }

    /// Parses the value of an encapsulating option; nil when a sub-option runs past the end.
    public init?(parsing value: [UInt8]) {
        var all: [DHCPOption] = []
        var index = 0
        while index < value.count {
            let code = value[index]
            // Vendor options (43, 175) use pad and end like the top level; relay information does not have them.
            if code == 0 { index += 1; continue }
            if code == 255 { break }
            guard index + 1 < value.count, index + 2 + Int(value[index + 1]) <= value.count else { return nil }
            let length = Int(value[index + 1])
            all.append(DHCPOption(DHCPOptionCode(code), Array(value[index + 2..<index + 2 + length])))
            index += 2 + length
        }
        self.all = all
    }

    public subscript(code: UInt8) -> [UInt8]? { all.first { $0.code.rawValue == code }?.value }

    public var encoded: [UInt8] { all.flatMap { [$0.code.rawValue, UInt8(min($0.value.count, 255))] + $0.value.prefix(255) } }
}
