/// A client message checked once at the edge: the options the responder acts on are parsed and
/// validated here, so a malformed one is a counted drop rather than a silent nil later.
public struct DHCPRequest: Sendable, Hashable {
    public var message: DHCPMessage
    public var type: DHCPMessageType
    /// Option 50 (RFC 2132 §9.1).
    public var requestedAddress: IPv4Address?
    /// Option 54 (RFC 2132 §9.7).
    public var serverIdentifier: IPv4Address?
    /// Option 57 (RFC 2132 §9.10), at least 576.
    public var maxMessageSize: Int?
    /// Option 61 (RFC 2132 §9.14): type byte and identifier, at least 2 bytes.
    public var clientIdentifier: [UInt8]?
    /// Option 60 (RFC 2132 §9.13).
    public var vendorClass: String?
    /// Option 93 (RFC 4578 §2.1): the first is used.
    public var architectures: [PXEArchitecture]
    /// Option 97 (RFC 4578 §2.3): type 0 and 16 bytes of UUID.
    public var clientUUID: [UInt8]?
    /// Option 82 (RFC 3046).
    public var relayInformation: DHCPRelayAgentInformation?
    /// Option 77 (RFC 3004 user classes, or iPXE's bare `iPXE`).
    public var userClasses: [String]
    /// Option 12.
    public var hostName: String?

    public init(_ message: DHCPMessage) throws(DHCPParseError) {
        guard message.op == .request else { throw .badOpcode(message.op.rawValue) }
        let options = message.options
        guard let typeBytes = options[.messageType] else { throw .badOption(code: 53, reason: "missing") }
        guard typeBytes.count == 1 else { throw .badOption(code: 53, reason: "length \(typeBytes.count)") }
        self.message = message
        type = DHCPMessageType(rawValue: typeBytes[0])
        requestedAddress = try Self.address(options, .requestedAddress)
        serverIdentifier = try Self.address(options, .serverIdentifier)
        if let value = options[.maxMessageSize] {
            guard value.count == 2 else { throw .badOption(code: 57, reason: "length \(value.count)") }
            let size = Int(value[0]) << 8 | Int(value[1])
            // RFC 2132 §9.10: the minimum legal value is 576; smaller ones are treated as 576.
            maxMessageSize = max(size, DHCPMessage.minimumMaxSize)
        }
        if let value = options[.clientIdentifier] {
            guard value.count >= 2 else { throw .badOption(code: 61, reason: "shorter than 2 bytes") }
            clientIdentifier = value
        }
        vendorClass = options.text(.vendorClass)
        architectures = []
        if let value = options[.clientArchitecture] {
            guard value.count >= 2, value.count % 2 == 0 else { throw .badOption(code: 93, reason: "length \(value.count)") }
            architectures = stride(from: 0, to: value.count, by: 2).map {
                PXEArchitecture(rawValue: UInt16(value[$0]) << 8 | UInt16(value[$0 + 1]))
            }
        }
        if let value = options[.clientMachineIdentifier] {
            // Some ROMs send a bare 16-byte UUID; RFC 4578 says type 0 then 16 bytes.
            guard value.count == 17 || value.count == 16 else { throw .badOption(code: 97, reason: "length \(value.count)") }
            clientUUID = value
        }
        if let value = options[.relayAgentInformation] {
            guard let subOptions = DHCPSubOptions(parsing: value) else { throw .badOption(code: 82, reason: "sub-option overrun") }
            relayInformation = DHCPRelayAgentInformation(subOptions)
        }
        userClasses = Self.userClasses(options[.userClass])
        hostName = options.text(.hostName)
    }

    public var hardwareAddress: HardwareAddress { message.hardwareAddress }

    /// A PXE ROM or UEFI network stack (RFC 4578 §2.1 and the PXE 2.1 spec: vendor class `PXEClient…`),
    /// or a UEFI HTTP boot client (`HTTPClient…`).
    public var isNetbootClient: Bool {
        guard let vendorClass else { return false }
        return vendorClass.hasPrefix("PXEClient") || vendorClass.hasPrefix("HTTPClient")
    }

    public var isHTTPBootClient: Bool { vendorClass?.hasPrefix("HTTPClient") == true || architectures.first?.isHTTPBoot == true }

    /// iPXE announces itself with user class `iPXE` (option 77) and its feature list (option 175).
    public var isIPXE: Bool { userClasses.contains("iPXE") || message.options.contains(.ipxeEncapsulated) }

    static func address(_ options: DHCPOptions, _ code: DHCPOptionCode) throws(DHCPParseError) -> IPv4Address? {
        guard let value = options[code] else { return nil }
        guard value.count == 4 else { throw .badOption(code: code.rawValue, reason: "length \(value.count), not 4") }
        return IPv4Address(value[0], value[1], value[2], value[3])
    }

    /// RFC 3004 §4 is a list of length-prefixed classes; iPXE and many others send one bare string.
    static func userClasses(_ value: [UInt8]?) -> [String] {
        guard let value, !value.isEmpty else { return [] }
        var classes: [String] = []
        var index = 0
        while index < value.count {
            let length = Int(value[index])
            guard length > 0, index + 1 + length <= value.count else {
                return [String(decoding: value, as: UTF8.self)]
            }
            classes.append(String(decoding: value[index + 1..<index + 1 + length], as: UTF8.self))
            index += 1 + length
        }
        return classes
    }
}
