import Metrics

/// The responder's counters, as `/metrics` shows them.
struct DNSMetrics: Sendable {
    let queriesUDP = Counter(label: "dns_queries_total", dimensions: [("transport", "udp")])
    let queriesTCP = Counter(label: "dns_queries_total", dimensions: [("transport", "tcp")])
    /// By response code, for the codes the responder gives (NOERROR … REFUSED, NOTAUTH, BADVERS).
    let responses: [UInt16: Counter] = Dictionary(
        uniqueKeysWithValues: [0, 1, 2, 3, 4, 5, 9, 16].map {
            ($0, Counter(label: "dns_responses_total", dimensions: [("rcode", DNSResponseCode(rawValue: $0).description)]))
        })
    let truncated = Counter(label: "dns_truncated_total")
    /// Datagrams and frames with no answer: shorter than a header, or responses.
    let malformedDropped = Counter(label: "dns_malformed_dropped_total")
    /// Queries that could not be parsed and got FORMERR.
    let malformedAnswered = Counter(label: "dns_malformed_answered_total")
    let forwarded = Counter(label: "dns_forwarded_total")
    let forwardFailed = Counter(label: "dns_forward_failed_total")
    let transfers = Counter(label: "dns_zone_transfers_total")
    let tcpConnections = Counter(label: "dns_tcp_connections_total")
    let tcpIdleClosed = Counter(label: "dns_tcp_idle_closed_total")
    let notifies = Counter(label: "dns_notify_sent_total")

    func query(_ transport: DNSTransport) {
        (transport == .udp ? queriesUDP : queriesTCP).increment()
    }

    func response(_ message: DNSMessage, truncated wasTruncated: Bool) {
        responses[message.rcode.rawValue]?.increment()
        if message.rcode == .formErr && message.questions.isEmpty { malformedAnswered.increment() }
        if wasTruncated { truncated.increment() }
    }
}
