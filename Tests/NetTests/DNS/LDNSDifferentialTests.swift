import Foundation
import NIOCore
import CLDNS
import Net
import Testing

/// Differential test: every response the responder writes is read by ldns, an independent implementation,
/// to the same header, sections and records (ldns prints them in zone text, as `description` does).
@Suite struct LDNSDifferentialTests {
    /// ldns's reading of `bytes`: header fields and each section's records in zone text, or its error.
    static func ldnsView(_ bytes: [UInt8]) -> (rcode: Int, flags: [Bool], sections: [[String]])? {
        var packet: UnsafeMutablePointer<ldns_pkt>?
        let status = bytes.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else { return nil }
        defer { ldns_pkt_free(packet) }
        let flags: [Bool] = [ldns_pkt_qr(packet), ldns_pkt_aa(packet), ldns_pkt_tc(packet), ldns_pkt_rd(packet), ldns_pkt_ra(packet)].map { $0 != 0 }
        var sections: [[String]] = []
        for list in [ldns_pkt_answer(packet), ldns_pkt_authority(packet), ldns_pkt_additional(packet)] {
            var lines: [String] = []
            if let list {
                for index in 0..<ldns_rr_list_rr_count(list) {
                    guard let text = ldns_rr2str(ldns_rr_list_rr(list, index)) else { continue }
                    lines.append(normalize(String(cString: text)))
                    free(text)
                }
            }
            sections.append(lines)
        }
        let rcode = Int(ldns_pkt_get_rcode(packet).rawValue)
        return (rcode, flags, sections)
    }

    /// Blank runs as one space, no trailing newline, hex in lower case.
    static func normalize(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
    }

    static let questions: [(String, DNSRecordType)] = DNSResponderTests.cases.map { (DNSName($0.qname)!.description, $0.qtype) }
        + [("lab.", .any), ("pxe1.lab.", .txt), ("version.bind.", .txt)]

    @Test func everyResponseParsesIdenticallyWithLDNS() throws {
        let responder = DNSResponder(zones: DNSTestZones.set)
        for (name, type) in Self.questions {
            for edns in [nil, DNSEDNS(udpPayloadSize: 4096)] {
                let query = DNSMessage(header: DNSHeader(id: 42, flags: 0x0100), questions: [DNSQuestion(name: DNSName(name)!, type: type)], edns: edns)
                guard case .reply(let response, let size) = responder.respond(to: Array(query.bytes().readableBytesView), transport: .udp, client: "::1")
                else { Issue.record("no reply to \(name)"); continue }
                let bytes = Array(response.bytes(maxSize: size).readableBytesView)
                let ours = try DNSMessage(parsing: bytes)
                guard let theirs = Self.ldnsView(bytes) else { Issue.record("ldns cannot parse the answer to \(name) \(type)"); continue }
                #expect(theirs.rcode == Int(ours.header.rcodeLow), "\(name) \(type)")
                #expect(theirs.flags == [ours.header.isResponse, ours.header.authoritative, ours.header.truncated, ours.header.recursionDesired, ours.header.recursionAvailable])
                // ldns keeps the OPT record out of the additional section too.
                let sections = [ours.answers, ours.authority, ours.additional].map { $0.map { Self.normalize($0.description) } }
                #expect(theirs.sections == sections, "\(name) \(type)")
            }
        }
    }

    @Test func truncatedResponsesParseWithLDNS() throws {
        var zone = DNSTestZones.lab
        for index in 1...60 { try zone.add(try DNSResourceRecord(zoneLine: "big.lab. 60 IN TXT \"record number \(index) of a long set\"")) }
        let responder = DNSResponder(zones: DNSZoneSet([zone]))
        let query = DNSMessage(header: DNSHeader(id: 1), questions: [DNSQuestion(name: DNSName("big.lab.")!, type: .txt)])
        guard case .reply(let response, let size) = responder.respond(to: Array(query.bytes().readableBytesView), transport: .udp, client: "::1") else {
            Issue.record("no reply"); return
        }
        let bytes = Array(response.bytes(maxSize: size).readableBytesView)
        #expect(bytes.count <= 512)
        let theirs = try #require(Self.ldnsView(bytes))
        #expect(theirs.flags[2])
        #expect(theirs.sections[0] == (try DNSMessage(parsing: bytes)).answers.map { Self.normalize($0.description) })
    }
}
