import Net
import Testing

/// RFC 2347-2349 and 7440 option handling: what is granted, clamped or left out of the OACK.
@Suite struct TFTPNegotiationTests {
    let limits = TFTPLimits(maxBlockSize: 65464, maxWindowSize: 64)

    struct Case: Sendable, CustomStringConvertible {
        var requested: TFTPOptionList
        var oack: TFTPOptionList?
        var blockSize = 512
        var windowSize = 1
        var description: String { "\(requested)" }
    }

    static let cases: [Case] = [
        Case(requested: [:], oack: nil),
        Case(requested: ["blksize": "1432", "tsize": "0"], oack: ["blksize": "1432", "tsize": "4096"], blockSize: 1432),
        Case(requested: ["tsize": "0", "blksize": "1408"], oack: ["tsize": "4096", "blksize": "1408"], blockSize: 1408),
        Case(requested: ["BlkSize": "65464"], oack: ["BlkSize": "65464"], blockSize: 65464),
        Case(requested: ["blksize": "65465"], oack: ["blksize": "65464"], blockSize: 65464),
        Case(requested: ["blksize": "8"], oack: ["blksize": "8"], blockSize: 8),
        Case(requested: ["blksize": "7"], oack: nil),
        Case(requested: ["blksize": "-1"], oack: nil),
        Case(requested: ["blksize": "99999999999999999999"], oack: nil),
        Case(requested: ["blksize": "1e3"], oack: nil),
        Case(requested: ["windowsize": "16"], oack: ["windowsize": "16"], windowSize: 16),
        Case(requested: ["windowsize": "1000"], oack: ["windowsize": "64"], windowSize: 64),
        Case(requested: ["windowsize": "0"], oack: nil),
        Case(requested: ["windowsize": "64", "blksize": "8192"], oack: ["windowsize": "12", "blksize": "8192"], blockSize: 8192, windowSize: 12),
        Case(requested: ["blksize": "65464", "windowsize": "16"], oack: ["blksize": "65464", "windowsize": "1"], blockSize: 65464, windowSize: 1),
        Case(requested: ["timeout": "3"], oack: ["timeout": "3"]),
        Case(requested: ["timeout": "0"], oack: nil),
        Case(requested: ["timeout": "256"], oack: nil),
        Case(requested: ["multicast": "", "blksize": "1024"], oack: ["blksize": "1024"], blockSize: 1024),
        Case(requested: ["blksize": "1024", "blksize": "2048"], oack: ["blksize": "1024"], blockSize: 1024),
        Case(
            requested: ["tsize": "0", "blksize": "1468", "windowsize": "4"], oack: ["tsize": "4096", "blksize": "1468", "windowsize": "4"],
            blockSize: 1468, windowSize: 4),
    ]

    @Test(arguments: cases)
    func negotiates(c: Case) {
        let negotiation = TFTPNegotiation(requested: c.requested, limits: limits, size: 4096)
        #expect(negotiation.optionAck == c.oack)
        #expect(negotiation.blockSize == c.blockSize)
        #expect(negotiation.windowSize == c.windowSize)
    }

    @Test func emptyFilesGetNoTsize() {
        let negotiation = TFTPNegotiation(requested: ["tsize": "0", "blksize": "8"], limits: limits, size: 0)
        #expect(negotiation.optionAck == ["blksize": "8"])
        #expect(TFTPNegotiation(requested: ["tsize": "0"], limits: limits, size: 0).optionAck == nil)
    }

    @Test func timeoutOptionSetsTheFirstRetransmission() {
        #expect(TFTPNegotiation(requested: ["timeout": "5"], limits: limits, size: 0).timeout == .seconds(5))
        #expect(TFTPNegotiation(requested: [:], limits: limits, size: 0).timeout == limits.timeout)
    }
}
