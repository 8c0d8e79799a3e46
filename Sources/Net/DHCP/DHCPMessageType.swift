/// Option 53 (RFC 2132 §9.6, RFC 4388 for the lease-query types).
public struct DHCPMessageType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let discover = Self(rawValue: 1)
    public static let offer = Self(rawValue: 2)
    public static let request = Self(rawValue: 3)
    public static let decline = Self(rawValue: 4)
    public static let ack = Self(rawValue: 5)
    public static let nak = Self(rawValue: 6)
    public static let release = Self(rawValue: 7)
    public static let inform = Self(rawValue: 8)

    static let names = [
        1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE", 8: "INFORM",
        10: "LEASEQUERY", 11: "LEASEUNASSIGNED", 12: "LEASEUNKNOWN", 13: "LEASEACTIVE",
    ]

    public var description: String { Self.names[Int(rawValue)] ?? "TYPE\(rawValue)" }
}
