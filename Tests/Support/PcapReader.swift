import Foundation

/// A minimal reader of classic pcap files (not pcapng) that yields the UDP datagrams inside, for tests that
/// start from real captures. Ethernet (with 802.1Q tags), Linux cooked (SLL) and raw IPv4 links; IPv4 only.
public struct PcapReader {
    /// One UDP datagram as captured.
    public struct Datagram: Sendable {
        /// 1-based, as tshark numbers frames.
        public var frame: Int
        public var source: String
        public var sourcePort: UInt16
        public var destination: String
        public var destinationPort: UInt16
        /// The UDP payload as captured; shorter than `length` when the capture cut the frame.
        public var payload: [UInt8]
        /// The payload length the UDP header announces.
        public var length: Int

        public var isTruncated: Bool { payload.count < length }
    }

    public enum Failure: Error { case notPcap, truncated }

    public let datagrams: [Datagram]

    public init(path: String) throws {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard data.count >= 24 else { throw Failure.notPcap }
        let magic = Self.uint32(data, 0, littleEndian: true)
        let littleEndian: Bool
        switch magic {
        case 0xA1B2_C3D4, 0xA1B2_3C4D: littleEndian = true
        case 0xD4C3_B2A1, 0x4D3C_B2A1: littleEndian = false
        default: throw Failure.notPcap
        }
        let linkType = Self.uint32(data, 20, littleEndian: littleEndian)
        var datagrams: [Datagram] = []
        var offset = 24
        var frame = 0
        while offset + 16 <= data.count {
            frame += 1
            let captured = Int(Self.uint32(data, offset + 8, littleEndian: littleEndian))
            offset += 16
            guard offset + captured <= data.count else { throw Failure.truncated }
            let record = Array(data[offset..<offset + captured])
            offset += captured
            if let datagram = Self.udp(in: record, linkType: linkType, frame: frame) { datagrams.append(datagram) }
        }
        self.datagrams = datagrams
    }

    static func udp(in record: [UInt8], linkType: UInt32, frame: Int) -> Datagram? {
        var ip: Int
        var etherType: UInt16
        switch linkType {
        case 1:  // Ethernet
            guard record.count >= 14 else { return nil }
            etherType = uint16(record, 12)
            ip = 14
            while etherType == 0x8100, record.count >= ip + 4 {
                etherType = uint16(record, ip + 2)
                ip += 4
            }
        case 113:  // Linux cooked capture
            guard record.count >= 16 else { return nil }
            etherType = uint16(record, 14)
            ip = 16
        case 101, 228:  // raw IPv4
            etherType = 0x0800
            ip = 0
        default:
            return nil
        }
        guard etherType == 0x0800, record.count >= ip + 20, record[ip] >> 4 == 4, record[ip + 9] == 17 else { return nil }
        // A non-first fragment has no UDP header.
        guard uint16(record, ip + 6) & 0x1FFF == 0 else { return nil }
        let headerLength = Int(record[ip] & 0x0F) * 4
        let udp = ip + headerLength
        guard record.count >= udp + 8 else { return nil }
        let length = Int(uint16(record, udp + 4)) - 8
        let end = min(record.count, udp + 8 + max(length, 0))
        func address(_ at: Int) -> String { record[at..<at + 4].map(String.init).joined(separator: ".") }
        return Datagram(
            frame: frame, source: address(ip + 12), sourcePort: uint16(record, udp),
            destination: address(ip + 16), destinationPort: uint16(record, udp + 2),
            payload: Array(record[(udp + 8)..<end]), length: max(length, 0))
    }

    static func uint16(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }

    static func uint32(_ bytes: [UInt8], _ at: Int, littleEndian: Bool) -> UInt32 {
        let value = bytes[at..<at + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return littleEndian ? value : value.byteSwapped
    }
}

/// Compares `actual` with the golden file at `path`; `UPDATE_GOLDEN=1` writes it instead.
/// Returns nil when they match (or after an update), else a short diff.
public func goldenMismatch(_ actual: String, path: String) throws -> String? {
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
        try actual.write(toFile: path, atomically: true, encoding: .utf8)
        return nil
    }
    guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
        return "golden file \(path) is missing: run with UPDATE_GOLDEN=1 to write it"
    }
    guard expected != actual else { return nil }
    let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let got = actual.split(separator: "\n", omittingEmptySubsequences: false)
    for (index, (a, b)) in zip(want, got).enumerated() where a != b {
        return "\(path):\(index + 1):\n  expected: \(a)\n  actual:   \(b)"
    }
    return "\(path): \(want.count) lines expected, \(got.count) produced"
}
