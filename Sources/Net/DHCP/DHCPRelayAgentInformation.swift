/// Option 82, relay agent information (RFC 3046), with the sub-options the responder acts on.
public struct DHCPRelayAgentInformation: Sendable, Hashable {
    public var subOptions: DHCPSubOptions

    public init(_ subOptions: DHCPSubOptions) { self.subOptions = subOptions }

    /// Sub-option 1, the agent circuit id.
    public var circuitID: [UInt8]? { subOptions[1] }
    /// Sub-option 2, the agent remote id.
    public var remoteID: [UInt8]? { subOptions[2] }

    /// Sub-option 5 (RFC 3527): the subnet the client is on, when giaddr is the relay's address on another one.
    public var linkSelection: IPv4Address? { Self.address(subOptions[5]) }

    /// Sub-option 11 (RFC 5107): the address the client must use as server identifier, so that its
    /// renewals come to the relay instead of to the server directly.
    public var serverIdentifierOverride: IPv4Address? { Self.address(subOptions[11]) }

    static func address(_ value: [UInt8]?) -> IPv4Address? {
        guard let value, value.count == 4 else { return nil }
        return IPv4Address(value[0], value[1], value[2], value[3])
    }
}
