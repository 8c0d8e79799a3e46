import NIOCore
import Net
import Testing

/// Bad input: each is a typed parse error, never a crash (RFC 1035 §4.1.4 pointers, §3.1 lengths).
@Suite struct DNSMalformedTests {
    static let header: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]  // ID 1, QDCOUNT 1

    struct Bad: Sendable, CustomStringConvertible {
        var name: String
        var bytes: [UInt8]
        var error: DNSParseError
        var description: String { name }
    }

    static let cases: [Bad] = [
        Bad(name: "empty", bytes: [], error: .truncated(field: "id", offset: 0)),
        Bad(name: "short header", bytes: [0, 1, 0, 0, 0], error: .truncated(field: "qdcount", offset: 4)),
        Bad(name: "counts that lie", bytes: header, error: .truncated(field: "question", offset: 12)),
        Bad(name: "label past the end", bytes: header + [10, 65, 65, 0, 0, 0], error: .truncated(field: "qname", offset: 12)),
        Bad(name: "pointer to itself", bytes: header + [0xC0, 12, 0, 1, 0, 1], error: .badPointer(target: 12, offset: 12)),
        Bad(name: "forward pointer", bytes: header + [0xC0, 14, 0, 1, 0, 1, 0], error: .badPointer(target: 14, offset: 12)),
        Bad(
            name: "pointer into its own name", bytes: header + [1, 65, 0xC0, 12, 0, 1, 0, 1],
            error: .badPointer(target: 12, offset: 14)),
        Bad(
            // Two names pointing at each other: the second name (at 16) points to 12, which points to 16.
            name: "pointer loop", bytes: [0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0] + [1, 65, 0xC0, 16, 0, 1, 0, 1] + [0xC0, 12, 0, 1, 0, 1],
            error: .badPointer(target: 16, offset: 14)),
        Bad(name: "extended label type", bytes: header + [0x41, 0, 0, 1, 0, 1], error: .badLabelType(0x41, offset: 12)),
        Bad(name: "trailing bytes", bytes: header + [0, 0, 1, 0, 1, 9], error: .trailingBytes(1)),
        Bad(
            name: "A record of 3 bytes",
            bytes: [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0] + [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3],
            error: .badRecordData(type: .a, length: 3)),
        Bad(
            name: "two OPT records",
            bytes: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2] + [0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0],
            error: .badOPT("more than one OPT record")),
    ]

    @Test(arguments: cases)
    func rejects(bad: Bad) {
        #expect(throws: bad.error) { try DNSMessage(parsing: bad.bytes) }
    }

    @Test func rejectsNamesOver255Octets() {
        // 5 labels of 63 octets: 320 octets of name.
        let label: [UInt8] = [63] + Array(repeating: 97, count: 63)
        let bytes = Self.header + Array([[UInt8]](repeating: label, count: 5).joined()) + [0, 0, 1, 0, 1]
        #expect(throws: DNSParseError.nameTooLong) { try DNSMessage(parsing: bytes) }
    }
}
