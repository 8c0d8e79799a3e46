import NIOCore
import Net
import Testing

/// The authoritative rules (RFC 1034 §4.3.2, RFC 2308, RFC 4343), one table row per case, answers in zone text.
@Suite struct DNSResponderTests {
    struct Case: Sendable, CustomStringConvertible {
        var qname: String
        var qtype: DNSRecordType
        var rcode: DNSResponseCode = .noError
        var aa = true
        var answer: [String] = []
        var authority: [String] = []
        var additional: [String] = []
        var description: String { "\(qname) \(qtype)" }
    }

    static let soa = "lab. 60 IN SOA ns1.lab. hostmaster.lab. 7 3600 600 604800 60"

    static let cases: [Case] = [
        Case(qname: "pxe1.lab.", qtype: .a, answer: ["pxe1.lab. 300 IN A 10.0.0.21"]),
        Case(qname: "PXE1.Lab.", qtype: .aaaa, answer: ["PXE1.Lab. 300 IN AAAA fd00::21"]),
        Case(qname: "pxe1.lab.", qtype: .mx, authority: [soa]),  // NODATA
        Case(qname: "nope.lab.", qtype: .a, rcode: .nxDomain, authority: [soa]),
        Case(qname: "rack1.lab.", qtype: .a, authority: [soa]),  // empty non-terminal: NODATA
        Case(
            qname: "www.lab.", qtype: .a,
            answer: ["www.lab. 300 IN CNAME pxe1.lab.", "pxe1.lab. 300 IN A 10.0.0.21"]),
        Case(
            qname: "alias.lab.", qtype: .a,
            answer: ["alias.lab. 300 IN CNAME www.lab.", "www.lab. 300 IN CNAME pxe1.lab.", "pxe1.lab. 300 IN A 10.0.0.21"]),
        Case(qname: "www.lab.", qtype: .cname, answer: ["www.lab. 300 IN CNAME pxe1.lab."]),
        Case(qname: "outside.lab.", qtype: .a, answer: ["outside.lab. 300 IN CNAME example.com."]),
        Case(
            qname: "dangling.lab.", qtype: .a, rcode: .nxDomain, answer: ["dangling.lab. 300 IN CNAME nothere.lab."],
            authority: [soa]),
        Case(
            qname: "loop1.lab.", qtype: .a,
            answer: ["loop1.lab. 300 IN CNAME loop2.lab.", "loop2.lab. 300 IN CNAME loop1.lab."]),
        Case(
            qname: "lab.", qtype: .mx, answer: ["lab. 300 IN MX 10 mail.lab."], additional: ["mail.lab. 300 IN A 10.0.0.2"]),
        Case(qname: "lab.", qtype: .ns, answer: ["lab. 3600 IN NS ns1.lab."], additional: ["ns1.lab. 300 IN A 10.0.0.1"]),
        Case(qname: "lab.", qtype: .txt, answer: ["lab. 300 IN TXT \"provision test zone\""]),
        Case(
            qname: "lab.", qtype: .soa, answer: ["lab. 3600 IN SOA ns1.lab. hostmaster.lab. 7 3600 600 604800 60"]),
        Case(
            qname: "_http._tcp.lab.", qtype: .srv, answer: ["_http._tcp.lab. 300 IN SRV 0 5 8080 pxe1.lab."],
            additional: ["pxe1.lab. 300 IN A 10.0.0.21", "pxe1.lab. 300 IN AAAA fd00::21"]),
        Case(qname: "21.0.0.10.in-addr.arpa.", qtype: .ptr, answer: ["21.0.0.10.in-addr.arpa. 300 IN PTR pxe1.lab."]),
        Case(
            qname: "99.0.0.10.in-addr.arpa.", qtype: .ptr, rcode: .nxDomain,
            authority: ["0.0.10.in-addr.arpa. 60 IN SOA ns1.lab. hostmaster.lab. 3 3600 600 604800 60"]),
        // Below a zone cut: a referral with glue, not authoritative.
        Case(
            qname: "www.sub.lab.", qtype: .a, aa: false, authority: ["sub.lab. 300 IN NS ns.sub.lab."],
            additional: ["ns.sub.lab. 300 IN A 10.0.9.1"]),
        Case(qname: "example.com.", qtype: .a, rcode: .refused, aa: false),
    ]

    @Test(arguments: cases)
    func answers(test: Case) throws {
        let response = try ask(test.qname, test.qtype)
        #expect(response.rcode == test.rcode)
        #expect(response.header.authoritative == test.aa)
        #expect(response.header.isResponse)
        #expect(response.questions.map(\.name.description) == [test.qname])
        #expect(response.answers.map(\.description.replacingTabs) == test.answer)
        #expect(response.authority.map(\.description.replacingTabs) == test.authority)
        #expect(response.additional.map(\.description.replacingTabs) == test.additional)
    }

    func ask(_ name: String, _ type: DNSRecordType, edns: DNSEDNS? = DNSEDNS(udpPayloadSize: 4096)) throws -> DNSMessage {
        var header = DNSHeader(id: 77)
        header.recursionDesired = true
        let query = DNSMessage(header: header, questions: [DNSQuestion(name: DNSName(name)!, type: type)], edns: edns)
        let responder = DNSResponder(zones: DNSTestZones.set)
        guard case .reply(let response, let size) = responder.respond(to: Array(query.bytes().readableBytesView), transport: .udp, client: "127.0.0.1")
        else { throw Unexpected() }
        return try DNSMessage(parsing: response.bytes(maxSize: size))
    }

    struct Unexpected: Error {}

    // MARK: bad input and header rules

    func decide(_ bytes: [UInt8], transport: DNSTransport = .udp, client: String = "127.0.0.1", responder: DNSResponder = DNSResponder(zones: DNSTestZones.set)) -> DNSDecision {
        responder.respond(to: bytes, transport: transport, client: client)
    }

    func rcode(_ decision: DNSDecision) -> DNSResponseCode? {
        guard case .reply(let message, _) = decision else { return nil }
        return message.rcode
    }

    static func query(_ name: String, _ type: DNSRecordType, id: UInt16 = 9, flags: UInt16 = 0x0100, edns: DNSEDNS? = nil) -> [UInt8] {
        Array(DNSMessage(header: DNSHeader(id: id, flags: flags), questions: [DNSQuestion(name: DNSName(name)!, type: type)], edns: edns).bytes().readableBytesView)
    }

    @Test func dropsRunts() {
        #expect(decide([1, 2, 3]) == .drop(.malformed))
    }

    @Test func dropsResponses() {
        #expect(decide(Self.query("pxe1.lab.", .a, flags: 0x8000)) == .drop(.response))
    }

    @Test func formErrForGarbageAfterAHeader() {
        #expect(rcode(decide([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12])) == .formErr)
    }

    @Test func formErrForTwoQuestions() {
        let message = DNSMessage(
            header: DNSHeader(id: 5), questions: [DNSQuestion(name: DNSName("a.lab")!, type: .a), DNSQuestion(name: DNSName("b.lab")!, type: .a)])
        let decision = decide(Array(message.bytes().readableBytesView))
        #expect(rcode(decision) == .formErr)
        if case .reply(let reply, _) = decision { #expect(reply.questions.isEmpty) }
    }

    @Test func formErrForNoQuestion() {
        #expect(rcode(decide(Array(DNSMessage(header: DNSHeader(id: 5)).bytes().readableBytesView))) == .formErr)
    }

    @Test func notImpForOtherOpcodes() {
        // Opcode 2 (STATUS).
        #expect(rcode(decide(Self.query("pxe1.lab.", .a, flags: 2 << 11))) == .notImp)
    }

    @Test func badVersForEDNS1() {
        let decision = decide(Self.query("pxe1.lab.", .a, edns: DNSEDNS(version: 1)))
        #expect(rcode(decision) == .badVers)
    }

    @Test func refusesOtherClasses() {
        let bytes = Array(DNSMessage(header: DNSHeader(id: 1), questions: [DNSQuestion(name: DNSName("version.bind")!, type: .txt, class: .chaos)]).bytes().readableBytesView)
        #expect(rcode(decide(bytes)) == .refused)
    }

    @Test func forwardsOutsideNamesWhenConfigured() {
        let responder = DNSResponder(zones: DNSTestZones.set, forwarding: true)
        guard case .forward(let query) = decide(Self.query("example.com.", .a), responder: responder) else {
            Issue.record("not forwarded")
            return
        }
        #expect(query.questions.first?.name == DNSName("example.com."))
        // Our own names are still answered, authoritatively.
        #expect(rcode(decide(Self.query("pxe1.lab.", .a), responder: responder)) == .noError)
    }

    @Test func udpSizeWithoutEDNSIs512AndTCPHasNoLimit() {
        guard case .reply(_, let plain) = decide(Self.query("pxe1.lab.", .a)),
            case .reply(_, let edns) = decide(Self.query("pxe1.lab.", .a, edns: DNSEDNS(udpPayloadSize: 4096))),
            case .reply(_, let small) = decide(Self.query("pxe1.lab.", .a, edns: DNSEDNS(udpPayloadSize: 100))),
            case .reply(_, let tcp) = decide(Self.query("pxe1.lab.", .a), transport: .tcp)
        else { Issue.record("no reply"); return }
        #expect([plain, edns, small, tcp] == [512, 1232, 512, 65535])
    }

    @Test func axfrOnlyOverTCPToAllowedClients() {
        let responder = DNSResponder(zones: DNSTestZones.set, transferAllowList: ["10.9.9.9"])
        #expect(rcode(decide(Self.query("lab.", .axfr), transport: .udp, client: "10.9.9.9", responder: responder)) == .formErr)
        #expect(rcode(decide(Self.query("lab.", .axfr), transport: .tcp, client: "10.9.9.8", responder: responder)) == .refused)
        #expect(rcode(decide(Self.query("pxe1.lab.", .axfr), transport: .tcp, client: "10.9.9.9", responder: responder)) == .notAuth)
        guard case .transfer(let messages) = decide(Self.query("LAB.", .axfr), transport: .tcp, client: "10.9.9.9", responder: responder) else {
            Issue.record("no transfer"); return
        }
        let records = messages.flatMap(\.answers)
        #expect(records.first?.type == .soa && records.last?.type == .soa)
        #expect(records.count == DNSTestZones.lab.count + 1)
    }
}
