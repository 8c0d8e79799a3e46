import Metrics
import NIOCore

/// The responder's counters, as `/metrics` shows them.
struct TFTPMetrics: Sendable {
    let requests = Counter(label: "tftp_requests_total")
    let transfersOK = Counter(label: "tftp_transfers_total", dimensions: [("result", "ok")])
    let transfersFailed = Counter(label: "tftp_transfers_total", dimensions: [("result", "failed")])
    let bytesSent = Counter(label: "tftp_sent_bytes_total")
    let bytesReceived = Counter(label: "tftp_received_bytes_total")
    let retransmissions = Counter(label: "tftp_retransmissions_total")
    let malformed = Counter(label: "tftp_malformed_dropped_total")
    let rateLimited = Counter(label: "tftp_rate_limited_total")
    let wrongTID = Counter(label: "tftp_wrong_tid_total")

    func refused(_ refusal: TFTPRefusal) {
        Counter(label: "tftp_refused_total", dimensions: [("reason", refusal.label)]).increment()
    }
}

extension TFTPMetrics {
    /// Counts a finished read transfer and records its event.
    func finished(
        _ transfer: TFTPTransfer, file: String, client: SocketAddress, outcome: TFTPTransferEvent.Outcome, bytesSent: Int,
        started: NIODeadline, events: any TFTPEventSink
    ) {
        if outcome == .completed { transfersOK.increment() } else { transfersFailed.increment() }
        self.bytesSent.increment(by: Int64(bytesSent))
        retransmissions.increment(by: Int64(transfer.retransmissions))
        events.record(
            TFTPTransferEvent(
                file: file, client: client, outcome: outcome, size: transfer.size, blockSize: transfer.negotiation.blockSize,
                windowSize: transfer.negotiation.windowSize, bytesSent: bytesSent, retransmissions: transfer.retransmissions,
                duration: Duration(.now() - started)))
    }
}

extension TFTPTransferEvent.Outcome {
    init(_ result: TFTPTransferResult) {
        switch result {
        case .completed: self = .completed
        case .failed(let failure): self = .failed(failure)
        }
    }
}
