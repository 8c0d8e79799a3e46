import NIOCore
@testable import Net
import Testing

/// Hand-built messages: byte literals with a comment per field, parsed and written back byte for byte.
@Suite struct DNSMessageTests {
    static let query: [UInt8] =
        [0x12, 0x34]  // ID
        + [0x01, 0x00]  // flags: RD
        + [0, 1, 0, 0, 0, 0, 0, 1]  // QDCOUNT 1, ARCOUNT 1 (the OPT record)
        + [4] + Array("PXE1".utf8) + [3] + Array("lab".utf8) + [0]  // QNAME PXE1.lab.
        + [0, 1, 0, 1]  // QTYPE A, QCLASS IN
        + [0]  // OPT owner: root
        + [0, 41, 0x04, 0xD0]  // TYPE OPT, CLASS = UDP size 1232
        + [0, 0, 0x80, 0]  // extended RCODE 0, version 0, DO set
        + [0, 0]  // RDLENGTH 0

    @Test func parsesAndWritesAQueryWithEDNS() throws {
        let message = try DNSMessage(parsing: Self.query)
        #expect(message.header.id == 0x1234)
        #expect(message.header.recursionDesired && !message.header.isResponse)
        #expect(message.questions == [DNSQuestion(name: DNSName("PXE1.lab.")!, type: .a)])
        #expect(message.edns == DNSEDNS(udpPayloadSize: 1232, flags: 0x8000))
        #expect(message.edns?.dnssecOK == true)
        #expect(Array(message.bytes().readableBytesView) == Self.query)
    }

    /// A response whose names share suffixes: every repeat becomes a pointer (RFC 1035 §4.1.4).
    static let response: [UInt8] =
        [0xAB, 0xCD, 0x85, 0x00]  // ID, flags: QR AA RD, NOERROR
        + [0, 1, 0, 2, 0, 1, 0, 1]  // QD 1, AN 2, NS 1, AR 1
        + [3] + Array("www".utf8) + [3] + Array("lab".utf8) + [0]  // offset 12: www.lab.
        + [0, 5, 0, 1]  // CNAME IN
        + [0xC0, 12, 0, 5, 0, 1, 0, 0, 0x0E, 0x10, 0, 7]  // www.lab. CNAME IN 3600, RDLENGTH 7
        + [4] + Array("pxe1".utf8) + [0xC0, 16]  // offset 37: pxe1 + pointer to lab.
        + [0xC0, 37, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 21]  // pxe1.lab. A 10.0.0.21
        + [0xC0, 16, 0, 2, 0, 1, 0, 0, 0x0E, 0x10, 0, 5]  // lab. NS, RDLENGTH 5
        + [2] + Array("ns".utf8) + [0xC0, 16]  // offset 72: ns.lab.
        + [0xC0, 72, 0, 28, 0, 1, 0, 0, 0x0E, 0x10, 0, 16]  // ns.lab. AAAA
        + [0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]  // fd00::1

    static func record(_ line: String) -> DNSResourceRecord { try! DNSResourceRecord(zoneLine: line) }

    @Test func compressesNamesOnWrite() throws {
        var header = DNSHeader(id: 0xABCD)
        header.isResponse = true
        header.authoritative = true
        header.recursionDesired = true
        let message = DNSMessage(
            header: header, questions: [DNSQuestion(name: DNSName("www.lab")!, type: .cname)],
            answers: [Self.record("www.lab. 3600 IN CNAME pxe1.lab."), Self.record("pxe1.lab. 60 IN A 10.0.0.21")],
            authority: [Self.record("lab. 3600 IN NS ns.lab.")], additional: [Self.record("ns.lab. 3600 IN AAAA fd00::1")])
        #expect(Array(message.bytes().readableBytesView) == Self.response)
        #expect(try DNSMessage(parsing: Self.response) == message)
    }

    /// Compression ignores case (RFC 4343 §3): `PXE1.Lab.` points at the bytes of `pxe1.lab.`.
    @Test func compressesAcrossCase() {
        var writer = DNSWireWriter()
        writer.write(DNSName("pxe1.lab.")!)
        writer.write(DNSName("PXE1.Lab.")!)
        writer.write(DNSName("ns.LAB.")!)
        let expected: [UInt8] = [4] + Array("pxe1".utf8) + [3] + Array("lab".utf8) + [0] + [0xC0, 0] + [2] + Array("ns".utf8) + [0xC0, 5]
        #expect(Array(writer.buffer.readableBytesView) == expected)
    }

    /// A record cut for size takes its names with it: nothing later may point into the dropped bytes.
    @Test func truncationForgetsTheDroppedNames() {
        var writer = DNSWireWriter()
        writer.write(DNSName("a.lab.")!)
        let mark = writer.count
        writer.write(DNSName("pxe1.other.")!)
        writer.truncate(to: mark)
        writer.write(DNSName("pxe1.other.")!)
        writer.write(DNSName("b.lab.")!)
        let expected: [UInt8] = [1, 97, 3] + Array("lab".utf8) + [0] + [4] + Array("pxe1".utf8) + [5] + Array("other".utf8) + [0] + [1, 98, 0xC0, 2]
        #expect(Array(writer.buffer.readableBytesView) == expected)
    }

    @Test(arguments: [
        "pxe1.lab. 300 IN A 10.0.0.21",
        "pxe1.lab. 300 IN AAAA 2001:db8::21",
        "21.0.0.10.in-addr.arpa. 300 IN PTR pxe1.lab.",
        "www.lab. 300 IN CNAME pxe1.lab.",
        "lab. 300 IN MX 10 mail.lab.",
        "lab. 300 IN TXT \"v=spf1 -all\" \"second \\\"quoted\\\"\"",
        "_http._tcp.lab. 300 IN SRV 0 5 8080 pxe1.lab.",
        "lab. 300 IN NS ns1.lab.",
        "lab. 3600 IN SOA ns1.lab. hostmaster.lab. 2024010101 3600 600 604800 60",
        "lab. 300 IN TYPE65280 \\# 3 0a0b0c",
    ])
    func zoneTextRoundTripsThroughWire(line: String) throws {
        let record = try DNSResourceRecord(zoneLine: line)
        #expect(record.description.replacingTabs == line)
        let message = DNSMessage(answers: [record])
        #expect(try DNSMessage(parsing: message.bytes()).answers == [record])
    }

    @Test func unknownTypesAreOpaque() throws {
        let record = try DNSResourceRecord(zoneLine: "x.lab. 60 TYPE999 \\# 2 beef")
        #expect(record.data == .opaque(DNSRecordType(rawValue: 999), [0xBE, 0xEF]))
        #expect(record.description.replacingTabs == "x.lab. 60 IN TYPE999 \\# 2 beef")
    }

    @Test func relativeNamesUseTheOrigin() throws {
        let record = try DNSResourceRecord(zoneLine: "pxe1 60 IN CNAME @", origin: DNSName("lab.")!)
        #expect(record.description.replacingTabs == "pxe1.lab. 60 IN CNAME lab.")
    }

    @Test func truncatesAnswersToTheSizeAndSetsTC() throws {
        let answers = (1...40).map { Self.record("many.lab. 60 IN A 10.0.1.\($0)") }
        let message = DNSMessage(questions: [DNSQuestion(name: DNSName("many.lab.")!, type: .a)], answers: answers, edns: DNSEDNS())
        let bytes = message.bytes(maxSize: 512)
        #expect(bytes.readableBytes <= 512)
        let parsed = try DNSMessage(parsing: bytes)
        #expect(parsed.header.truncated)
        #expect(parsed.answers.count < 40 && parsed.edns != nil)
        #expect(try DNSMessage(parsing: message.bytes()).header.truncated == false)
    }
}

extension String {
    /// Zone text with its tabs as single spaces, to compare with test lines.
    var replacingTabs: String { split(separator: "\t").joined(separator: " ") }
}
