import NIOCore
import Net
import Testing

/// The transfer state machine driven by hand: inputs and instants in, actions out.
@Suite struct TFTPTransferTests {
    let t0 = NIODeadline.now()
    let limits = TFTPLimits(timeout: .seconds(1), maxTimeout: .seconds(4), maxRetries: 3)

    func transfer(size: Int, options: TFTPOptionList = [:]) -> TFTPTransfer {
        TFTPTransfer(size: size, negotiation: TFTPNegotiation(requested: options, limits: limits, size: size), limits: limits)
    }

    func at(_ seconds: Double) -> NIODeadline { t0 + .nanoseconds(Int64(seconds * 1e9)) }

    @Test func lockStepWithoutOptions() {
        var t = transfer(size: 1024)  // 512 + 512 + an empty last block
        #expect(t.lastBlock == 3)
        #expect(t.handle(.start, now: at(0)) == [.sendData(1...1), .scheduleTimer(.init(rawValue: 1), after: .seconds(1))])
        #expect(t.handle(.ack(block: 1), now: at(0.1)) == [.sendData(2...2)])
        #expect(t.handle(.ack(block: 2), now: at(0.2)) == [.sendData(3...3)])
        #expect(t.byteRange(ofBlock: 3) == 1024..<1024)
        #expect(t.handle(.ack(block: 3), now: at(0.3)) == [.finish(.completed)])
        #expect(t.isFinished)
        #expect(t.handle(.ack(block: 3), now: at(0.4)) == [])
    }

    @Test func oackThenWindows() {
        var t = transfer(size: 10_000, options: ["blksize": "1000", "windowsize": "4", "tsize": "0"])
        #expect(t.lastBlock == 11)
        #expect(
            t.handle(.start, now: at(0)) == [
                .send(.optionAck(["blksize": "1000", "windowsize": "4", "tsize": "10000"])),
                .scheduleTimer(.init(rawValue: 1), after: .seconds(1)),
            ])
        #expect(t.handle(.ack(block: 1), now: at(0.01)) == [], "only ACK 0 answers an OACK")
        #expect(t.handle(.ack(block: 0), now: at(0.01)) == [.sendData(1...4)])
        #expect(t.byteRange(ofBlock: 4) == 3000..<4000)
        #expect(t.handle(.ack(block: 4), now: at(0.02)) == [.sendData(5...8)])
        // The client missed block 6: it acknowledges 5 and the window restarts at 6 (RFC 7440 §4).
        #expect(t.handle(.ack(block: 5), now: at(0.03)) == [.sendData(6...9)])
        #expect(t.handle(.ack(block: 9), now: at(0.04)) == [.sendData(10...11)])
        #expect(t.byteRange(ofBlock: 11) == 10_000..<10_000)
        #expect(t.handle(.ack(block: 11), now: at(0.05)) == [.finish(.completed)])
        #expect(t.retransmissions == 0)
    }

    @Test func duplicateAcksNeverTriggerASend() {
        var t = transfer(size: 5000, options: ["windowsize": "2"])
        _ = t.handle(.start, now: at(0))
        #expect(t.handle(.ack(block: 0), now: at(0.01)) == [.sendData(1...2)])
        #expect(t.handle(.ack(block: 0), now: at(0.02)) == [], "a second ACK 0 is a duplicate")
        #expect(t.handle(.ack(block: 2), now: at(0.03)) == [.sendData(3...4)])
        // The Sorcerer's Apprentice: the same ACK again must not send the window again.
        #expect(t.handle(.ack(block: 2), now: at(0.04)) == [])
        #expect(t.handle(.ack(block: 2), now: at(0.05)) == [])
        #expect(t.handle(.ack(block: 7), now: at(0.06)) == [], "an ACK for a block never sent is ignored")
    }

    @Test func retransmitsWithBackoffThenGivesUp() {
        var t = transfer(size: 100)
        let timer1 = TFTPTimerID(rawValue: 1)
        #expect(t.handle(.start, now: at(0)) == [.sendData(1...1), .scheduleTimer(timer1, after: .seconds(1))])
        // 1 s of silence: block 1 again, the timeout doubles.
        #expect(t.handle(.timerFired(timer1), now: at(1)) == [.sendData(1...1), .scheduleTimer(.init(rawValue: 2), after: .seconds(2))])
        #expect(t.handle(.timerFired(timer1), now: at(1.5)) == [], "a stale timer is ignored")
        #expect(t.handle(.timerFired(.init(rawValue: 2)), now: at(3)) == [.sendData(1...1), .scheduleTimer(.init(rawValue: 3), after: .seconds(4))])
        #expect(t.handle(.timerFired(.init(rawValue: 3)), now: at(7)) == [.sendData(1...1), .scheduleTimer(.init(rawValue: 4), after: .seconds(4))], "capped at maxTimeout")
        #expect(t.retransmissions == 3)
        #expect(
            t.handle(.timerFired(.init(rawValue: 4)), now: at(11)) == [
                .send(.error(code: .notDefined, message: "Timed out")), .finish(.failed(.timedOut)),
            ])
    }

    @Test func progressResetsTheBackoffWithoutRearmingPerPacket() {
        var t = transfer(size: 2000)
        _ = t.handle(.start, now: at(0))
        #expect(t.handle(.timerFired(.init(rawValue: 1)), now: at(1)) == [.sendData(1...1), .scheduleTimer(.init(rawValue: 2), after: .seconds(2))])
        // Progress at 1.5 s: no new timer, the deadline moves to 2.5 s.
        #expect(t.handle(.ack(block: 1), now: at(1.5)) == [.sendData(2...2)])
        // The pending timer fires at 3 s, past the deadline: block 2 is resent with the timeout back at 1 s, doubled once.
        #expect(t.handle(.timerFired(.init(rawValue: 2)), now: at(3)) == [.sendData(2...2), .scheduleTimer(.init(rawValue: 3), after: .seconds(2))])
        // An early fire (deadline moved by an ACK) waits out the rest.
        #expect(t.handle(.ack(block: 2), now: at(3.5)) == [.sendData(3...3)])
        #expect(t.handle(.timerFired(.init(rawValue: 3)), now: at(4)) == [.scheduleTimer(.init(rawValue: 4), after: .milliseconds(500))])
    }

    @Test func oackNeverAcknowledged() {
        var t = transfer(size: 100, options: ["tsize": "0"])
        _ = t.handle(.start, now: at(0))
        var now = 0.0
        for id in 1...3 {
            now += [0, 1, 2, 4][id]
            #expect(t.handle(.timerFired(.init(rawValue: UInt64(id))), now: at(now)).first == .send(.optionAck(["tsize": "100"])))
        }
        #expect(t.retransmissions == 3)
        #expect(t.handle(.timerFired(.init(rawValue: 4)), now: at(now + 4)).last == .finish(.failed(.timedOut)))
    }

    @Test func clientRefusesTheOACK() {
        var t = transfer(size: 100, options: ["tsize": "0"])
        _ = t.handle(.start, now: at(0))
        // OVMF does this once it knows the size (qemu-ovmf-uefi-pxe.pcap frame 15).
        let refusal = t.handle(.error(code: .optionsRefused, message: "User aborted the transfer"), now: at(0.1))
        #expect(refusal == [.finish(.failed(.clientError(code: .optionsRefused, message: "User aborted the transfer")))])
        #expect(t.handle(.ack(block: 0), now: at(0.2)) == [])
    }

    @Test func blockNumbersRollOver() {
        // 40 MiB at 512-byte blocks: 81921 blocks, past 65535.
        let size = 40 << 20
        var t = transfer(size: size)
        _ = t.handle(.start, now: at(0))
        var block: UInt64 = 1
        while block < t.lastBlock {
            let actions = t.handle(.ack(block: TFTPTransfer.wireNumber(block)), now: at(0))
            block += 1
            guard actions == [.sendData(block...block)] else {
                Issue.record("block \(block): \(actions)")
                return
            }
        }
        #expect(TFTPTransfer.wireNumber(65536) == 0 && TFTPTransfer.wireNumber(65537) == 1)
        #expect(t.byteRange(ofBlock: 81920) == (81919 * 512)..<size)
        #expect(t.byteRange(ofBlock: 81921) == size..<size)
        #expect(t.handle(.ack(block: TFTPTransfer.wireNumber(t.lastBlock)), now: at(1)) == [.finish(.completed)])
    }

    @Test func windowsAcrossTheRollover() {
        var t = transfer(size: 70_000 * 512, options: ["windowsize": "16"])
        _ = t.handle(.start, now: at(0))
        var acked: UInt64 = 0
        while acked < t.lastBlock {
            let actions = t.handle(.ack(block: TFTPTransfer.wireNumber(acked)), now: at(0))
            guard case .sendData(let window)? = actions.first else { break }
            #expect(window.lowerBound == acked + 1)
            acked = window.upperBound
        }
        #expect(acked == t.lastBlock)
        #expect(t.handle(.ack(block: TFTPTransfer.wireNumber(acked)), now: at(0)) == [.finish(.completed)])
    }

    /// `window(afterAck:)` is the blocking adapter's per-block shortcut: wherever it answers, `handle`
    /// must answer `.sendData` of the same window; wherever it declines, it must change nothing.
    @Test func theAckShortcutAgreesWithHandle() {
        let options: TFTPOptionList = ["tsize": "0", "windowsize": "3"]
        var shortcut = transfer(size: 40 * 512, options: options)
        var reference = transfer(size: 40 * 512, options: options)
        var answered = 0
        // ACK 0 of the OACK, in-stride ACKs, duplicates, an ACK inside the window, one never sent, a timer
        // fired meanwhile, then the last block.
        let acks: [UInt16] = [1, 0, 0, 3, 3, 5, 9, 8, 11, 14, 14, 17, 20, 23, 26, 29, 32, 35, 38, 41, 41]
        #expect(shortcut.handle(.start, now: at(0)) == reference.handle(.start, now: at(0)))
        for (step, ack) in acks.enumerated() {
            let now = at(Double(step) / 10)
            if step == 10 {
                let fired = TFTPTimerID(rawValue: 1)
                #expect(shortcut.handle(.timerFired(fired), now: at(5)) == reference.handle(.timerFired(fired), now: at(5)))
            }
            let expected = reference.handle(.ack(block: ack), now: now)
            if let window = shortcut.window(afterAck: ack, now: now) {
                answered += 1
                #expect(expected == [.sendData(window)], "ACK \(ack)")
            } else {
                #expect(shortcut.handle(.ack(block: ack), now: now) == expected, "ACK \(ack)")
            }
        }
        #expect(shortcut.isFinished && reference.isFinished)
        #expect(shortcut.retransmissions == reference.retransmissions)
        #expect(answered == 13, "the in-stride ACKs, and nothing else, take the shortcut")
    }
}
