public import Foundation
import Logging
public import Net
import NIOCore
import OSIS
public import Workflow

/// Turns TFTP transfers into appliance events: each completed or failed transfer (read or upload) becomes a
/// `tftp.transfer` event (file, size, bytes sent, block and window size, retransmissions, duration) for
/// the machine using the client's address (its recorded address, else its lease: `MachineLocator`). The
/// event wakes workflow steps waiting for it and is the machine's boot trace
/// (`GET /api/v1/views/event?machine=MAC`). Refusals are only logged, so a flood of bad requests cannot
/// flood the store.
public struct TFTPEventRecorder: TFTPEventSink {
    public static let eventType = "tftp.transfer"

    let engine: WorkflowEngine
    let locator: MachineLocator
    let log: LoggingTFTPEventSink

    public init(engine: WorkflowEngine, locator: MachineLocator, log: LoggingTFTPEventSink) {
        self.engine = engine
        self.locator = locator
        self.log = log
    }

    /// Returns at once (it is called on a transfer's event loop); the lookup and the write happen in a task.
    public func record(_ event: TFTPTransferEvent) {
        log.record(event)
        guard let stored = Self.event(for: event, machine: nil) else { return }
        Task { [engine, locator] in
            var stored = stored
            stored.machine = await locator.mac(forAddress: stored.data["client"] ?? "")
            do {
                try await engine.publish(stored)
            } catch {
                log.logger.warning("tftp: transfer event not stored: \(error)", metadata: ["file": "\(event.file)"])
            }
        }
    }

    /// The stored form of `event`, nil for refusals.
    public static func event(for event: TFTPTransferEvent, machine: String?, time: Date = Date()) -> Event? {
        let outcome: String
        switch event.outcome {
        case .completed: outcome = "completed"
        case .failed(let failure): outcome = "failed: \(failure)"
        case .refused: return nil
        }
        let address = event.client.ipAddress ?? "?"
        let (seconds, attoseconds) = event.duration.components
        let data = [
            "file": event.file, "direction": event.direction.rawValue, "client": address, "outcome": outcome, "size": event.size.map(String.init) ?? "",
            "bytes": String(event.bytesSent), "blksize": String(event.blockSize), "windowsize": String(event.windowSize),
            "retransmissions": String(event.retransmissions),
            "milliseconds": String(seconds * 1000 + attoseconds / 1_000_000_000_000_000),
        ]
        return Event(type: eventType, machine: machine, time: time, message: "\(event.file) to \(address): \(outcome)", data: data)
    }
}
