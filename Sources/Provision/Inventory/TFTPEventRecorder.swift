import Foundation
import Logging
import Net
import NIOCore
import OSIS
import Workflow

/// Turns TFTP transfers into appliance events: each completed or failed transfer becomes a
/// `tftp.transfer` event (file, size, block and window size, retransmissions, duration) for the machine
/// that has the client's address, which wakes workflow steps waiting for it and feeds the boot trace.
/// Refusals are only logged, so a flood of bad requests cannot flood the store.
struct TFTPEventRecorder: TFTPEventSink {
    let engine: WorkflowEngine
    let index: ViewIndex
    let log: LoggingTFTPEventSink

    func record(_ event: TFTPTransferEvent) {
        log.record(event)
        let outcome: String
        switch event.outcome {
        case .completed: outcome = "completed"
        case .failed(let failure): outcome = "failed: \(failure)"
        case .refused: return
        }
        let address = event.client.ipAddress ?? "?"
        let data = [
            "file": event.file, "client": address, "outcome": outcome, "size": event.size.map(String.init) ?? "",
            "blksize": String(event.blockSize), "windowsize": String(event.windowSize),
            "retransmissions": String(event.retransmissions), "milliseconds": String(event.duration.components.seconds * 1000
                + event.duration.components.attoseconds / 1_000_000_000_000_000),
        ]
        Task { [engine, index] in
            let machine = try? await index.query(
                ViewQuery(kind: Machine.kind, filters: [.init("address", .equal, .text(address))], limit: 1)).rows.first?.id
            try? await engine.publish(Event(
                type: "tftp.transfer", machine: machine, time: Date(), message: "\(event.file) to \(address): \(outcome)", data: data))
        }
    }
}
