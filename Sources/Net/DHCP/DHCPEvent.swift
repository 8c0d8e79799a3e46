public import Logging

/// One packet in or out, for the machine's boot trace. Sinks are called on the responder's hot path:
/// they must not block (queue and return).
public struct DHCPExchangeEvent: Sendable, Hashable {
    public enum Direction: String, Sendable, Hashable { case received, sent, dropped }

    public var direction: Direction
    public var type: DHCPMessageType
    public var hardwareAddress: HardwareAddress
    public var xid: UInt32
    public var network: String?
    /// yiaddr of a reply, ciaddr or the requested address of a request.
    public var address: IPv4Address?
    public var vendorClass: String?
    public var architecture: PXEArchitecture?
    /// The boot file of a reply, or the reason for a drop.
    public var detail: String?

    public init(
        direction: Direction, type: DHCPMessageType, hardwareAddress: HardwareAddress, xid: UInt32, network: String? = nil,
        address: IPv4Address? = nil, vendorClass: String? = nil, architecture: PXEArchitecture? = nil, detail: String? = nil
    ) {
        self.direction = direction
        self.type = type
        self.hardwareAddress = hardwareAddress
        self.xid = xid
        self.network = network
        self.address = address
        self.vendorClass = vendorClass
        self.architecture = architecture
        self.detail = detail
    }

    public var summary: String {
        var text = "\(direction) \(type) \(hardwareAddress) xid 0x\(String(xid, radix: 16))"
        if let address { text += " \(address)" }
        if let detail { text += " (\(detail))" }
        return text
    }
}

public protocol DHCPEventSink: Sendable {
    func record(_ event: DHCPExchangeEvent)
}

/// Logs each exchange at debug level.
public struct LoggingDHCPEventSink: DHCPEventSink {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func record(_ event: DHCPExchangeEvent) {
        logger.debug("dhcp: \(event.summary)", metadata: ["mac": "\(event.hardwareAddress)"])
    }
}
