import Metrics

/// The responder's counters, as `/metrics` shows them.
struct DHCPMetrics: Sendable {
    let malformed = Counter(label: "dhcp_malformed_dropped_total")
    let persisted = Counter(label: "dhcp_leases_persisted_total")
    let persistFailures = Counter(label: "dhcp_persist_failures_total")
    let sendFailures = Counter(label: "dhcp_send_failures_total")
    let reclaimed = Counter(label: "dhcp_leases_reclaimed_total")
    private let received: [UInt8: Counter]
    private let sent: [UInt8: Counter]
    private let dropped: [DHCPDropReason: Counter]

    init() {
        var received: [UInt8: Counter] = [:]
        var sent: [UInt8: Counter] = [:]
        for (code, name) in DHCPMessageType.names where code <= 8 {
            received[UInt8(code)] = Counter(label: "dhcp_received_total", dimensions: [("type", name.lowercased())])
            sent[UInt8(code)] = Counter(label: "dhcp_sent_total", dimensions: [("type", name.lowercased())])
        }
        self.received = received
        self.sent = sent
        var dropped: [DHCPDropReason: Counter] = [:]
        for reason in DHCPDropReason.allCases { dropped[reason] = Counter(label: "dhcp_dropped_total", dimensions: [("reason", reason.rawValue)]) }
        self.dropped = dropped
    }

    func received(_ type: DHCPMessageType) {
        (received[type.rawValue] ?? Counter(label: "dhcp_received_total", dimensions: [("type", "other")])).increment()
    }

    func sent(_ type: DHCPMessageType) { sent[type.rawValue]?.increment() }

    func dropped(_ reason: DHCPDropReason) { dropped[reason]?.increment() }
}
