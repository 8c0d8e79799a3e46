/// One read transfer, server side, as a pure state machine (RFC 1350 §6, RFC 2347 OACK, RFC 7440 windows).
///
/// It is fed the client's ACKs and ERRORs and its own timers, with `now` passed in, and answers with
/// actions for the adapter to perform. It never reads a clock, a file or a socket: DATA is described as
/// block numbers, and the adapter reads the bytes for them (`byteRange(ofBlock:)`).
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
    private var currentTimeout: Duration
    private var deadline: ContinuousClock.Instant?
    private var armedTimer: TFTPTimerID?
    private var nextTimer = TFTPTimerID(rawValue: 0)
    /// DATA and OACK packets sent again after a timeout.
    public private(set) var retransmissions = 0

    public init(size: Int, negotiation: TFTPNegotiation, limits: TFTPLimits) {
        self.size = size
        self.negotiation = negotiation
        self.limits = limits
        self.lastBlock = UInt64(size / negotiation.blockSize) + 1
        self.currentTimeout = negotiation.timeout
    }

    public var isFinished: Bool { state == .finished }

    /// Where block `block` (counted from 1) lies in the file: the adapter reads these bytes into DATA.
    public func byteRange(ofBlock block: UInt64) -> Range<Int> {
        let start = Int(block - 1) * negotiation.blockSize
        return start..<min(start + negotiation.blockSize, size)
    }

    /// The block number as DATA carries it: the low 16 bits, rolling over to 0 after 65535.
    public static func wireNumber(_ block: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: block) }

    public mutating func handle(_ input: Input, now: ContinuousClock.Instant) -> [TFTPTransferAction] {
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

    private mutating func acknowledge(_ wire: UInt16, now: ContinuousClock.Instant) -> [TFTPTransferAction] {
        switch state {
        case .negotiating:
            // ACK 0 accepts the OACK (RFC 2347 §2); anything else is stale or confused and ignored.
            guard wire == 0 else { return [] }
            state = .sending
            progress(now: now)
            return sendWindow(now: now)
        case .sending:
            // Map the 16-bit number onto the blocks in flight; 0 ahead of what was acknowledged is a
            // duplicate, and a duplicate never triggers a send: that is how the Sorcerer's Apprentice
            // (RFC 1123 §4.2.3.1) is avoided. The timer alone retransmits.
            let ahead = UInt64(wire &- Self.wireNumber(acknowledged))
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

    private mutating func timerFired(_ id: TFTPTimerID, now: ContinuousClock.Instant) -> [TFTPTransferAction] {
        guard id == armedTimer, let deadline else { return [] }
        armedTimer = nil
        // Progress moved the deadline since this timer was set: wait out the rest instead of re-arming per packet.
        if now < deadline { return armTimer(after: deadline - now) }
        silentPeriods += 1
        guard silentPeriods <= limits.maxRetries else {
            state = .finished
            return [.send(.error(code: .notDefined, message: "Timed out")), .finish(.failed(.timedOut))]
        }
        currentTimeout = min(currentTimeout * 2, max(limits.maxTimeout, negotiation.timeout))
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
    private mutating func sendWindow(now: ContinuousClock.Instant) -> [TFTPTransferAction] {
        let first = acknowledged + 1
        let last = min(acknowledged + UInt64(negotiation.windowSize), lastBlock)
        sent = last
        // Once per block in lock-step: one array, no concatenation (the timer is already armed as a rule).
        var actions: [TFTPTransferAction] = [.sendData(first...last)]
        deadline = now + currentTimeout
        if armedTimer == nil { actions += armTimer(after: currentTimeout) }
        return actions
    }

    private mutating func progress(now: ContinuousClock.Instant) {
        silentPeriods = 0
        currentTimeout = negotiation.timeout
    }

    /// Moves the deadline to `now + timeout`; asks for a timer only when none is pending.
    private mutating func armTimer(now: ContinuousClock.Instant) -> [TFTPTransferAction] {
        deadline = now + currentTimeout
        return armedTimer == nil ? armTimer(after: currentTimeout) : []
    }

    private mutating func armTimer(after delay: Duration) -> [TFTPTransferAction] {
        nextTimer.rawValue += 1
        armedTimer = nextTimer
        return [.scheduleTimer(nextTimer, after: delay)]
    }
}
