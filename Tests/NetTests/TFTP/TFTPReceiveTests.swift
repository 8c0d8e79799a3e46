import Net
import NIOCore
import Testing

/// The upload state machine driven by hand: DATA, errors and instants in, writes, ACKs and commits out.
@Suite struct TFTPReceiveTests {
    let t0 = NIODeadline.now()
    let limits = TFTPLimits(timeout: .seconds(1), maxTimeout: .seconds(4), maxRetries: 2)

    func receive(options: TFTPOptionList = [:], size: Int = 0, maxSize: Int = 1 << 20) -> TFTPReceive {
        TFTPReceive(negotiation: TFTPNegotiation(requested: options, limits: limits, size: size), limits: limits, maxSize: maxSize)
    }

    func at(_ seconds: Double) -> NIODeadline { t0 + .nanoseconds(Int64(seconds * 1e9)) }

    func bytes(_ count: Int, _ value: UInt8 = 0x41) -> ByteBuffer { ByteBuffer(repeating: value, count: count) }

    @Test func lockStepWithoutOptions() {
        var r = receive()
        #expect(r.handle(.start, now: at(0)) == [.send(.ack(block: 0)), .scheduleTimer(.init(rawValue: 1), after: .seconds(1))])
        #expect(r.handle(.data(block: 1, payload: bytes(512)), now: at(0.1)) == [.write(bytes(512)), .send(.ack(block: 1))])
        // Our ACK 1 was lost and the client sends block 1 again: ACK it again, write nothing.
        #expect(r.handle(.data(block: 1, payload: bytes(512)), now: at(0.2)) == [.send(.ack(block: 1))])
        #expect(r.handle(.data(block: 3, payload: bytes(10)), now: at(0.2)) == [], "not the next block: ignored in lock-step")
        #expect(r.handle(.data(block: 2, payload: bytes(10)), now: at(0.5)) == [.write(bytes(10)), .commit(ack: .ack(block: 2))])
        #expect(r.isFinished && r.bytesReceived == 522)
        // The final ACK was lost: the last block again gets it again, and writes nothing (RFC 1350 §6 dally).
        #expect(r.handle(.data(block: 2, payload: bytes(10)), now: at(0.75)) == [.send(.ack(block: 2))])
        #expect(r.handle(.data(block: 1, payload: bytes(512)), now: at(0.75)) == [])
        // The timer set at the start fires at 1 s; the dally lasts a timeout past the last block (1.5 s).
        #expect(r.handle(.timerFired(.init(rawValue: 1)), now: at(1)) == [.scheduleTimer(.init(rawValue: 2), after: .milliseconds(500))])
        #expect(r.handle(.timerFired(.init(rawValue: 2)), now: at(1.5)) == [.finish(.completed)])
        #expect(r.handle(.data(block: 2, payload: bytes(10)), now: at(1.75)) == [])
    }

    @Test func anEmptyFileIsOneEmptyBlock() {
        var r = receive()
        _ = r.handle(.start, now: at(0))
        #expect(r.handle(.data(block: 1, payload: ByteBuffer()), now: at(0.1)) == [.write(ByteBuffer()), .commit(ack: .ack(block: 1))])
    }

    @Test func optionsAreAcknowledgedAndWindowsAckedWhenFull() {
        var r = receive(options: ["blksize": "100", "windowsize": "3", "tsize": "450"], size: 450)
        #expect(r.handle(.start, now: at(0)) == [
            .send(.optionAck(["blksize": "100", "windowsize": "3", "tsize": "450"])), .scheduleTimer(.init(rawValue: 1), after: .seconds(1)),
        ])
        #expect(r.handle(.data(block: 1, payload: bytes(100)), now: at(0.1)) == [.write(bytes(100))])
        #expect(r.handle(.data(block: 2, payload: bytes(100)), now: at(0.1)) == [.write(bytes(100))])
        #expect(r.handle(.data(block: 3, payload: bytes(100)), now: at(0.1)) == [.write(bytes(100)), .send(.ack(block: 3))])
        // Block 4 is lost: 5 and 6 arrive. One ACK of 3 restarts the window at 4 (RFC 7440 §4); 6 adds nothing.
        #expect(r.handle(.data(block: 5, payload: bytes(50)), now: at(0.2)) == [.send(.ack(block: 3))])
        #expect(r.handle(.data(block: 6, payload: bytes(100)), now: at(0.2)) == [])
        #expect(r.handle(.data(block: 4, payload: bytes(100)), now: at(0.3)) == [.write(bytes(100))])
        #expect(r.handle(.data(block: 5, payload: bytes(50)), now: at(0.3)) == [.write(bytes(50)), .commit(ack: .ack(block: 5))])
        #expect(r.bytesReceived == 450)
    }

    @Test func blockNumbersRollOver() {
        var r = receive(options: ["blksize": "8"], maxSize: 1 << 30)
        _ = r.handle(.start, now: at(0))
        for block in 1...65537 {
            let actions = r.handle(.data(block: UInt16(truncatingIfNeeded: block), payload: bytes(8)), now: at(0.1))
            #expect(actions.count == 2, "block \(block)")
            if actions.count != 2 { return }
        }
        #expect(r.handle(.data(block: 2, payload: bytes(1)), now: at(0.2)) == [.write(bytes(1)), .commit(ack: .ack(block: 2))])
        #expect(r.bytesReceived == 65537 * 8 + 1)
    }

    @Test func tooLargeIsStoppedWithError3() {
        var r = receive(maxSize: 1000)
        _ = r.handle(.start, now: at(0))
        _ = r.handle(.data(block: 1, payload: bytes(512)), now: at(0.1))
        #expect(r.handle(.data(block: 2, payload: bytes(512)), now: at(0.2)) == [
            .send(.error(code: .diskFull, message: "File too large")), .finish(.failed(.aborted("larger than the upload limit"))),
        ])
        #expect(r.isFinished)
    }

    @Test func aBlockLargerThanBlksizeIsIllegal() {
        var r = receive()
        _ = r.handle(.start, now: at(0))
        #expect(r.handle(.data(block: 1, payload: bytes(513)), now: at(0.1)).first == .send(.error(code: .illegalOperation, message: "Block larger than blksize")))
        #expect(r.isFinished)
    }

    @Test func silenceResendsTheLastAckThenGivesUp() {
        var r = receive(options: ["blksize": "100"])
        _ = r.handle(.start, now: at(0))
        #expect(r.handle(.timerFired(.init(rawValue: 1)), now: at(1)) == [
            .send(.optionAck(["blksize": "100"])), .scheduleTimer(.init(rawValue: 2), after: .seconds(2)),
        ], "no DATA yet: the OACK again")
        #expect(r.handle(.data(block: 1, payload: bytes(100)), now: at(1.5)) == [.write(bytes(100)), .send(.ack(block: 1))])
        // Progress moved the deadline to 2.5 s: the timer set for 3 s fires, the client is silent since 1.5 s.
        #expect(r.handle(.timerFired(.init(rawValue: 2)), now: at(3)) == [.send(.ack(block: 1)), .scheduleTimer(.init(rawValue: 3), after: .seconds(2))])
        #expect(r.handle(.timerFired(.init(rawValue: 3)), now: at(5)) == [.send(.ack(block: 1)), .scheduleTimer(.init(rawValue: 4), after: .seconds(4))])
        #expect(r.handle(.timerFired(.init(rawValue: 4)), now: at(9)) == [.send(.error(code: .notDefined, message: "Timed out")), .finish(.failed(.timedOut))])
        #expect(r.retransmissions == 3)
    }

    @Test func theClientsErrorEndsIt() {
        var r = receive()
        _ = r.handle(.start, now: at(0))
        #expect(r.handle(.error(code: .diskFull, message: "x"), now: at(0.1)) == [.finish(.failed(.clientError(code: .diskFull, message: "x")))])
    }

    @Test(arguments: [
        ([[0x61, 0x0D, 0x0A, 0x62]], [0x61, 0x0A, 0x62]),
        ([[0x61, 0x0D], [0x0A, 0x62, 0x0D], [0x00]], [0x61, 0x0A, 0x62, 0x0D]),
        ([[0x61, 0x0D]], [0x61, 0x0D]),
    ] as [([[UInt8]], [UInt8])])
    func netasciiDecodesAcrossBlocks(blocks: [[UInt8]], expected: [UInt8]) {
        var decoder = TFTPNetasciiDecoder()
        var output: [UInt8] = []
        for block in blocks { output += decoder.decode(ByteBuffer(bytes: block)).readableBytesView }
        output += decoder.finish().readableBytesView
        #expect(output == expected)
        let encoded = TFTPNetascii.encode(ByteBuffer(bytes: expected))
        var again = TFTPNetasciiDecoder()
        var roundTrip = Array(again.decode(encoded).readableBytesView)
        roundTrip += again.finish().readableBytesView
        #expect(roundTrip == expected, "decode mirrors encode")
    }
}
