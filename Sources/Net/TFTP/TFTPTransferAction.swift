/// What a `TFTPTransfer` asks its adapter to do.
public enum TFTPTransferAction: Sendable, Hashable {
    /// Send this packet (an OACK or an ERROR) to the client.
    case send(TFTPPacket)
    /// Send DATA for these blocks, counted from 1 (see `TFTPTransfer.byteRange(ofBlock:)`), in one flush.
    case sendData(ClosedRange<UInt64>)
    /// Call back with `.timerFired(id)` after `after`. A newer timer does not cancel an older one; the
    /// transfer ignores ids it no longer waits for, so the adapter may cancel or not.
    case scheduleTimer(TFTPTimerID, after: Duration)
    /// The transfer is over: close its channel and report.
    case finish(TFTPTransferResult)
}

/// Names one timer of one transfer.
public struct TFTPTimerID: RawRepresentable, Sendable, Hashable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// How a transfer ended.
public enum TFTPTransferResult: Sendable, Hashable {
    /// The last block was acknowledged.
    case completed
    case failed(TFTPTransferFailure)
}

public enum TFTPTransferFailure: Sendable, Hashable, CustomStringConvertible {
    /// The client stayed silent through every retry.
    case timedOut
    /// The client sent ERROR.
    case clientError(code: TFTPErrorCode, message: String)
    /// The server stopped it: shutdown, or the file could not be read.
    case aborted(String)

    public var description: String {
        switch self {
        case .timedOut: return "timed out"
        case .clientError(let code, let message): return "client error \(code): \(message)"
        case .aborted(let why): return "aborted: \(why)"
        }
    }
}
