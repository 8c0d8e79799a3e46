public import NIOCore

/// One write transfer (WRQ), server side, as a pure state machine: RFC 1350 §6 with RFC 2347 OACK,
/// RFC 2349 `tsize` and RFC 7440 windows.
///
/// It is fed the client's DATA and ERRORs and its own timers, with `now` passed in, and answers with
/// actions: bytes to append to the file, ACKs to send, timers, and at the end a commit. It never touches
/// a file or a socket. Blocks count from 1 as 64-bit numbers and roll over on the wire, as reads do.
public struct TFTPReceive: Sendable {
    public enum Input: Sendable, Hashable {
        /// Send the OACK, or ACK 0 when there was nothing to acknowledge.
        case start
        case data(block: UInt16, payload: ByteBuffer)
        case error(code: TFTPErrorCode, message: String)
        case timerFired(TFTPTimerID)
    }

    public enum Action: Sendable, Hashable {
        case send(TFTPPacket)
        /// Append these bytes to the file.
        case write(ByteBuffer)
        /// The last block arrived: make the file visible under its name, then send `ack`; if that fails,
        /// send ERROR instead and end. The upload is complete; the channel stays open a timeout longer
        /// to answer a repeated last block (the final ACK was lost), then `.finish(.completed)` closes it.
        case commit(ack: TFTPPacket)
        case scheduleTimer(TFTPTimerID, after: Duration)
        /// Over without a commit: the partial file is removed.
        case finish(TFTPTransferResult)
    }

    enum State: Sendable, Hashable {
        case idle
        case receiving
        /// Complete and acknowledged; waiting a timeout in case the final ACK was lost (RFC 1350 §6,
        /// "dallying").
        case dallying
        case finished
    }

    public let negotiation: TFTPNegotiation
    let limits: TFTPLimits
    /// Uploads larger than this are stopped with ERROR 3 (RFC 1350 "allocation exceeded").
    public let maxSize: Int
    private(set) var state: State = .idle
    /// Blocks received in order.
    public private(set) var received: UInt64 = 0
    public private(set) var bytesReceived = 0
    /// Blocks received since the last ACK: a window is acknowledged when full (RFC 7440 §4).
    private var inWindow = 0
    /// An out-of-order block was answered with the ACK of the last good one; more of the same gap are not.
    private var gapReported = false
    private var silentPeriods = 0
    /// The negotiated timeout, and the current one (doubled by each silent period). Time is NIO's, as in
    /// `TFTPTransfer`, whose note says why.
    private let baseTimeout: TimeAmount
    private var currentTimeout: TimeAmount
    private var deadline: NIODeadline?
    private var armedTimer: TFTPTimerID?
    private var nextTimer = TFTPTimerID(rawValue: 0)
    /// ACKs (and OACKs) sent again after a timeout.
    public private(set) var retransmissions = 0

    public init(negotiation: TFTPNegotiation, limits: TFTPLimits, maxSize: Int) {
        self.negotiation = negotiation
        self.limits = limits
        self.maxSize = maxSize
        self.baseTimeout = TimeAmount(negotiation.timeout)
        self.currentTimeout = baseTimeout
    }

    /// No more data is taken: complete (and maybe dallying), failed or abandoned.
    public var isFinished: Bool { state == .finished || state == .dallying }

    public mutating func handle(_ input: Input, now: NIODeadline) -> [Action] {
        guard state != .finished else { return [] }
        switch input {
        case .start:
            guard state == .idle else { return [] }
            state = .receiving
            return [.send(firstAnswer)] + armTimer(now: now)
        case .data(let wire, let payload):
            if state == .dallying {
                // The client did not get the final ACK and sends its last block again.
                return wire == TFTPTransfer.wireNumber(received) ? [.send(lastAck)] : []
            }
            return receive(wire, payload, now: now)
        case .error where state == .dallying:
            state = .finished
            return [.finish(.completed)]
        case .error(let code, let message):
            state = .finished
            return [.finish(.failed(.clientError(code: code, message: message)))]
        case .timerFired(let id):
            return timerFired(id, now: now)
        }
    }

    /// The OACK, or ACK 0 (RFC 2347 §2, RFC 1350 §6).
    private var firstAnswer: TFTPPacket {
        negotiation.optionAck.map { .optionAck($0) } ?? .ack(block: 0)
    }

    private var lastAck: TFTPPacket {
        received == 0 ? firstAnswer : .ack(block: TFTPTransfer.wireNumber(received))
    }

    private mutating func receive(_ wire: UInt16, _ payload: ByteBuffer, now: NIODeadline) -> [Action] {
        guard state == .receiving else { return [] }
        let expected = received + 1
        guard wire == TFTPTransfer.wireNumber(expected) else {
            // A block ahead of the expected one means one went missing: ACK the last good block once so the
            // sender restarts the window after it (RFC 7440 §4). The previous block again means our ACK was
            // lost (lock-step): ACK it again. Older blocks are stale and ignored.
            let ahead = wire &- TFTPTransfer.wireNumber(expected)
            if ahead > 0, ahead < UInt16(max(negotiation.windowSize, 1)), !gapReported {
                gapReported = true
                inWindow = 0
                return [.send(lastAck)]
            }
            if wire == TFTPTransfer.wireNumber(received), negotiation.windowSize == 1 { return [.send(lastAck)] }
            return []
        }
        guard payload.readableBytes <= negotiation.blockSize else {
            state = .finished
            return [.send(.error(code: .illegalOperation, message: "Block larger than blksize")),
                    .finish(.failed(.aborted("block larger than blksize")))]
        }
        guard bytesReceived + payload.readableBytes <= maxSize else {
            state = .finished
            return [.send(.error(code: .diskFull, message: "File too large")), .finish(.failed(.aborted("larger than the upload limit")))]
        }
        received = expected
        bytesReceived += payload.readableBytes
        silentPeriods = 0
        gapReported = false
        currentTimeout = baseTimeout
        if payload.readableBytes < negotiation.blockSize {
            state = .dallying
            return [.write(payload), .commit(ack: .ack(block: wire))] + armTimer(now: now)
        }
        inWindow += 1
        guard inWindow >= negotiation.windowSize else {
            deadline = now + currentTimeout
            return [.write(payload)]
        }
        inWindow = 0
        return [.write(payload), .send(.ack(block: wire))] + armTimer(now: now)
    }

    private mutating func timerFired(_ id: TFTPTimerID, now: NIODeadline) -> [Action] {
        guard id == armedTimer, let deadline else { return [] }
        armedTimer = nil
        if now < deadline { return armTimer(after: deadline - now) }
        if state == .dallying {
            state = .finished
            return [.finish(.completed)]
        }
        silentPeriods += 1
        guard silentPeriods <= limits.maxRetries else {
            state = .finished
            return [.send(.error(code: .notDefined, message: "Timed out")), .finish(.failed(.timedOut))]
        }
        currentTimeout = min(currentTimeout * 2, max(TimeAmount(limits.maxTimeout), baseTimeout))
        retransmissions += 1
        inWindow = 0
        return [.send(lastAck)] + armTimer(now: now)
    }

    private mutating func armTimer(now: NIODeadline) -> [Action] {
        deadline = now + currentTimeout
        return armedTimer == nil ? armTimer(after: currentTimeout) : []
    }

    private mutating func armTimer(after delay: TimeAmount) -> [Action] {
        nextTimer.rawValue += 1
        armedTimer = nextTimer
        return [.scheduleTimer(nextTimer, after: Duration(delay))]
    }
}
