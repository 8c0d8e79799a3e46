public import NIOCore

/// One read transfer, server side, as a pure state machine (RFC 1350 §6, RFC 2347 OACK, RFC 7440 windows).
///
/// It is fed the client's ACKs and ERRORs and its own timers, with `now` passed in, and answers with
/// actions for the adapter to perform. It never reads a clock, a file or a socket: DATA is described as
/// block numbers, and the adapter reads the bytes for them (`byteRange(ofBlock:)`).
///
/// Time is `NIODeadline` and `TimeAmount`, not `ContinuousClock.Instant`: the standard library's
/// instant is not frozen, so every struct that stores one gets its layout at run time, and each copy
/// or optional check of it went through value witnesses, some 15% of a lock-step block's samples.
///
/// Blocks are counted internally from 1 as 64-bit numbers; the wire carries the low 16 bits, so block
/// numbers roll over from 65535 to 0 and files of any size go whole.
public struct TFTPTransfer: Sendable {
    public enum Input: Sendable, Hashable {
        /// Send the OACK, or DATA 1 when there was nothing to acknowledge.
        case start
        /// An ACK from the client's TID.
        case ack(block: UInt16)
        /// An ERROR from the client's TID: the client gave up (RFC 1350 §7), or refused the OACK (RFC 2347 §2).
        case error(code: TFTPErrorCode, message: String)
        /// A timer this transfer asked for.
        case timerFired(TFTPTimerID)
    }

    enum State: Sendable, Hashable {
        case idle
        /// OACK sent, waiting for ACK 0.
        case negotiating
        case sending
        case finished
    }

    public let size: Int
    public let negotiation: TFTPNegotiation
    let limits: TFTPLimits
    /// The last block: the first one shorter than the block size, possibly empty (RFC 1350 §6).
    public let lastBlock: UInt64
    private(set) var state: State = .idle
    /// Highest block the client acknowledged, 0 before any.
    private(set) var acknowledged: UInt64 = 0
    /// Highest block sent.
    private(set) var sent: UInt64 = 0
    /// Timeouts in a row without progress.
    private var silentPeriods = 0
    /// The negotiated timeout, and the current one (doubled by each silent period, RFC 2349).
    private let baseTimeout: TimeAmount
    private var currentTimeout: TimeAmount
    private var deadline: NIODeadline?
    private var armedTimer: TFTPTimerID?
    private var nextTimer = TFTPTimerID(rawValue: 0)
    /// DATA and OACK packets sent again after a timeout.
    public private(set) var retransmissions = 0

    public init(size: Int, negotiation: TFTPNegotiation, limits: TFTPLimits) {
        self.size = size
        self.negotiation = negotiation
        self.limits = limits
        self.lastBlock = UInt64(size / negotiation.blockSize) + 1
        self.baseTimeout = TimeAmount(negotiation.timeout)
        self.currentTimeout = baseTimeout
    }

    public var isFinished: Bool { state == .finished }

    /// Where block `block` (counted from 1) lies in the file: the adapter reads these bytes into DATA.
    public func byteRange(ofBlock block: UInt64) -> Range<Int> {
        let start = Int(block - 1) * negotiation.blockSize
        return start..<min(start + negotiation.blockSize, size)
    }

    /// The block number as DATA carries it: the low 16 bits, rolling over to 0 after 65535.
    public static func wireNumber(_ block: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: block) }

    public mutating func handle(_ input: Input, now: NIODeadline) -> [TFTPTransferAction] {
        guard state != .finished else { return [] }
        switch input {
        case .start:
            guard state == .idle else { return [] }
            if let options = negotiation.optionAck {
                state = .negotiating
                return [.send(.optionAck(options))] + armTimer(now: now)
            }
            state = .sending
            return sendWindow(now: now)
        case .ack(let wire):
            return acknowledge(wire, now: now)
        case .error(let code, let message):
            state = .finished
            return [.finish(.failed(.clientError(code: code, message: message)))]
        case .timerFired(let id):
            return timerFired(id, now: now)
        }
    }

    private mutating func acknowledge(_ wire: UInt16, now: NIODeadline) -> [TFTPTransferAction] {
        switch state {
        case .negotiating:
            // ACK 0 accepts the OACK (RFC 2347 §2); anything else is stale or confused and ignored.
            guard wire == 0 else { return [] }
            state = .sending
            progress(now: now)
            return sendWindow(now: now)
        case .sending:
            if let window = window(afterAck: wire, now: now) { return [.sendData(window)] }
            let ahead = blocksAcknowledged(by: wire)
            guard ahead > 0, acknowledged + ahead <= sent else { return [] }
            acknowledged += ahead
            progress(now: now)
            if acknowledged == lastBlock {
                state = .finished
                return [.finish(.completed)]
            }
            // An ACK inside the window means the client missed the block after it (RFC 7440 §4): the next
            // window starts right there.
            return sendWindow(now: now)
        case .idle, .finished:
            return []
        }
    }

    /// The common ACK without an array of actions, for an adapter's per-block loop: one that moves the
    /// window on while blocks remain and the timer is armed yields the next window, to send as
    /// `.sendData` would. Any other ACK (a duplicate, the last block's, one that needs a timer) yields
    /// nil and changes nothing: pass it to `handle(.ack(block:))`.
    public mutating func window(afterAck wire: UInt16, now: NIODeadline) -> ClosedRange<UInt64>? {
        guard state == .sending, armedTimer != nil else { return nil }
        let ahead = blocksAcknowledged(by: wire)
        guard ahead > 0, acknowledged + ahead <= sent, acknowledged + ahead < lastBlock else { return nil }
        acknowledged += ahead
        progress(now: now)
        return advanceWindow(now: now)
    }

    /// Maps the 16-bit number onto the blocks in flight. 0 ahead of what was acknowledged is a duplicate,
    /// and a duplicate never triggers a send: that is how the Sorcerer's Apprentice (RFC 1123 §4.2.3.1)
    /// is avoided. The timer alone retransmits.
    private func blocksAcknowledged(by wire: UInt16) -> UInt64 {
        UInt64(wire &- Self.wireNumber(acknowledged))
    }

    private mutating func timerFired(_ id: TFTPTimerID, now: NIODeadline) -> [TFTPTransferAction] {
        guard id == armedTimer, let deadline else { return [] }
        armedTimer = nil
        // Progress moved the deadline since this timer was set: wait out the rest instead of re-arming per packet.
        if now < deadline { return armTimer(after: deadline - now) }
        silentPeriods += 1
        guard silentPeriods <= limits.maxRetries else {
            state = .finished
            return [.send(.error(code: .notDefined, message: "Timed out")), .finish(.failed(.timedOut))]
        }
        currentTimeout = min(currentTimeout * 2, max(TimeAmount(limits.maxTimeout), baseTimeout))
        switch state {
        case .negotiating:
            retransmissions += 1
            return [.send(.optionAck(negotiation.optionAck ?? [:]))] + armTimer(now: now)
        case .sending:
            let window = acknowledged + 1...sent
            retransmissions += window.count
            return [.sendData(window)] + armTimer(now: now)
        case .idle, .finished:
            return []
        }
    }

    /// Sends the window after the last acknowledged block (RFC 7440 §4); lock-step when the window is 1.
    private mutating func sendWindow(now: NIODeadline) -> [TFTPTransferAction] {
        let window = advanceWindow(now: now)
        return armedTimer == nil ? [.sendData(window)] + armTimer(after: currentTimeout) : [.sendData(window)]
    }

    /// Marks the window after the last acknowledged block as sent and moves the deadline.
    private mutating func advanceWindow(now: NIODeadline) -> ClosedRange<UInt64> {
        let first = acknowledged + 1
        sent = min(acknowledged + UInt64(negotiation.windowSize), lastBlock)
        deadline = now + currentTimeout
        return first...sent
    }

    private mutating func progress(now: NIODeadline) {
        silentPeriods = 0
        currentTimeout = baseTimeout
    }

    /// Moves the deadline to `now + timeout`; asks for a timer only when none is pending.
    private mutating func armTimer(now: NIODeadline) -> [TFTPTransferAction] {
        deadline = now + currentTimeout
        return armedTimer == nil ? armTimer(after: currentTimeout) : []
    }

    private mutating func armTimer(after delay: TimeAmount) -> [TFTPTransferAction] {
        nextTimer.rawValue += 1
        armedTimer = nextTimer
        return [.scheduleTimer(nextTimer, after: Duration(delay))]
    }
}
