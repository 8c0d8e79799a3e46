public import Logging
public import NIOCore
import Synchronization

/// One request and what came of it: the boot trace of a machine is made of these. The machine is found
/// from `client` by whoever records the event (leases map addresses to machines).
public struct TFTPTransferEvent: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case completed
        case failed(TFTPTransferFailure)
        /// Answered with ERROR before any transfer started.
        case refused(TFTPErrorCode, TFTPRefusal)
    }

    /// RRQ or WRQ.
    public enum Direction: String, Sendable, Hashable {
        case read, write
    }

    public var file: String
    public var client: SocketAddress
    public var outcome: Outcome
    public var direction: Direction
    /// The file's size in bytes, once it was opened.
    public var size: Int?
    public var blockSize: Int
    public var windowSize: Int
    /// DATA payload bytes sent, retransmissions included; for an upload, the bytes received.
    public var bytesSent: Int
    public var retransmissions: Int
    public var duration: Duration

    public init(
        file: String, client: SocketAddress, outcome: Outcome, direction: Direction = .read, size: Int? = nil, blockSize: Int = 512,
        windowSize: Int = 1, bytesSent: Int = 0, retransmissions: Int = 0, duration: Duration = .zero
    ) {
        self.file = file
        self.client = client
        self.outcome = outcome
        self.direction = direction
        self.size = size
        self.blockSize = blockSize
        self.windowSize = windowSize
        self.bytesSent = bytesSent
        self.retransmissions = retransmissions
        self.duration = duration
    }
}

/// Where transfer events go. Called on a transfer's event loop: implementations return at once.
/// OSIS events (the machine's boot trace) come with the workflow engine; until then they are logged.
public protocol TFTPEventSink: Sendable {
    func record(_ event: TFTPTransferEvent)
}

/// Logs each event: completions at info, failures and refusals at notice.
public struct LoggingTFTPEventSink: TFTPEventSink {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func record(_ event: TFTPTransferEvent) {
        var metadata: Logger.Metadata = [
            "file": "\(event.file)", "direction": "\(event.direction.rawValue)",
            "client": "\(event.client.ipAddress ?? "?"):\(event.client.port ?? 0)",
        ]
        switch event.outcome {
        case .completed:
            metadata["size"] = "\(event.size ?? 0)"
            metadata["blksize"] = "\(event.blockSize)"
            metadata["windowsize"] = "\(event.windowSize)"
            metadata["retransmissions"] = "\(event.retransmissions)"
            metadata["duration"] = "\(event.duration)"
            logger.info(event.direction == .read ? "tftp: sent" : "tftp: received", metadata: metadata)
        case .failed(let failure):
            metadata["sent"] = "\(event.bytesSent)"
            metadata["retransmissions"] = "\(event.retransmissions)"
            logger.notice("tftp: transfer failed: \(failure)", metadata: metadata)
        case .refused(let code, let refusal):
            logger.notice("tftp: refused with error \(code): \(refusal)", metadata: metadata)
        }
    }
}

/// The in-memory twin: keeps every event, for tests.
public final class MemoryTFTPEventSink: TFTPEventSink {
    private let stored = Mutex<[TFTPTransferEvent]>([])

    public init() {}

    public func record(_ event: TFTPTransferEvent) { stored.withLock { $0.append(event) } }

    public var events: [TFTPTransferEvent] { stored.withLock { $0 } }
}
