/// A DHCP option code (RFC 2132 and successors). A struct rather than an enum, so a code nobody here
/// knows still round-trips.
public struct DHCPOptionCode: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let pad = Self(0)
    public static let subnetMask = Self(1)
    public static let router = Self(3)
    public static let domainNameServers = Self(6)
    public static let hostName = Self(12)
    public static let domainName = Self(15)
    public static let broadcastAddress = Self(28)
    public static let vendorSpecific = Self(43)
    public static let requestedAddress = Self(50)
    public static let leaseTime = Self(51)
    public static let overload = Self(52)
    public static let messageType = Self(53)
    public static let serverIdentifier = Self(54)
    public static let parameterRequestList = Self(55)
    public static let message = Self(56)
    public static let maxMessageSize = Self(57)
    public static let renewalTime = Self(58)
    public static let rebindingTime = Self(59)
    public static let vendorClass = Self(60)
    public static let clientIdentifier = Self(61)
    public static let tftpServerName = Self(66)
    public static let bootfileName = Self(67)
    public static let userClass = Self(77)
    public static let relayAgentInformation = Self(82)
    public static let clientArchitecture = Self(93)
    public static let clientNetworkInterface = Self(94)
    public static let clientMachineIdentifier = Self(97)
    public static let ipxeEncapsulated = Self(175)
    public static let end = Self(255)

    static let names: [UInt8: String] = [
        1: "subnet-mask", 3: "router", 6: "dns", 12: "hostname", 15: "domain", 28: "broadcast", 43: "vendor", 50: "requested",
        51: "lease-time", 52: "overload", 53: "type", 54: "server-id", 55: "prl", 56: "message", 57: "max-size",
        58: "t1", 59: "t2", 60: "vendor-class", 61: "client-id", 66: "tftp-server", 67: "bootfile", 77: "user-class",
        82: "relay-info", 93: "arch", 94: "ndi", 97: "uuid", 175: "ipxe",
    ]

    public var description: String { Self.names[rawValue].map { "\(rawValue)(\($0))" } ?? "\(rawValue)" }
}
