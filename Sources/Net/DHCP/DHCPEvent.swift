public import Logging

/// One exchange for the machine's boot trace: a client's message and what came of it, the reply that
/// went out or why none did. An exchange is one event, not two (one per packet): the trace reads
/// DISCOVER → OFFER as one line, and each exchange costs the store one event. Sinks are called on the
/// responder's hot path: they must not block (queue and return).
public struct DHCPExchangeEvent: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// A reply went out.
        case replied
        /// No reply: `detail` says why (not for us, no address left, a lease that could not be stored, …).
        case dropped
        /// Done, and the protocol wants no reply (RELEASE, DECLINE).
        case handled
    }

    public var outcome: Outcome
    /// The client's message.
    public var request: DHCPMessageType
    /// The reply, when one went out.
    public var reply: DHCPMessageType?
    public var hardwareAddress: HardwareAddress
    public var xid: UInt32
    public var network: String?
    /// The address the client asked for (option 50) or holds (ciaddr).
    public var requestedAddress: IPv4Address?
    /// The address the reply gives (yiaddr).
    public var address: IPv4Address?
    public var vendorClass: String?
    public var architecture: PXEArchitecture?
    /// The boot file of a reply, or the reason there was none.
    public var detail: String?

    public init(
        outcome: Outcome, request: DHCPMessageType, reply: DHCPMessageType? = nil, hardwareAddress: HardwareAddress, xid: UInt32,
        network: String? = nil, requestedAddress: IPv4Address? = nil, address: IPv4Address? = nil, vendorClass: String? = nil,
        architecture: PXEArchitecture? = nil, detail: String? = nil
    ) {
        self.outcome = outcome
        self.request = request
        self.reply = reply
        self.hardwareAddress = hardwareAddress
        self.xid = xid
        self.network = network
        self.requestedAddress = requestedAddress
        self.address = address
        self.vendorClass = vendorClass
        self.architecture = architecture
        self.detail = detail
    }

    /// The same exchange, ended without a reply.
    public func dropped(_ reason: String) -> DHCPExchangeEvent {
        var copy = self
        copy.outcome = .dropped
        copy.detail = reason
        return copy
    }

    /// What the trace calls the exchange: the reply's type when there was one (`ack`), else the request's.
    public var type: DHCPMessageType { reply ?? request }

    public var summary: String {
        var text = "\(request) from \(hardwareAddress) xid 0x\(String(xid, radix: 16))"
        if let requestedAddress { text += " for \(requestedAddress)" }
        switch outcome {
        case .replied: text += ": \(reply.map { "\($0)" } ?? "reply")" + (address.map { " \($0)" } ?? "")
        case .dropped: text += ": no reply"
        case .handled: text += ": done"
        }
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
