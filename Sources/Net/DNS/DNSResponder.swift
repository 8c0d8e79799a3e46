/// How a query arrived: UDP answers are cut to the client's size, TCP ones are not (RFC 7766).
public enum DNSTransport: Sendable, Hashable {
    case udp
    case tcp
}

/// Why a datagram gets no answer at all.
public enum DNSDropReason: Sendable, Hashable {
    /// Shorter than a header: there is no ID to answer to.
    case malformed
    /// A response (QR set): answering responses lets two servers loop (RFC 1035 §7.3 spirit).
    case response
}

/// What the responder decided for one query.
public enum DNSDecision: Sendable, Hashable {
    /// Send `message`, written in at most `maxSize` bytes (TC set when it does not fit).
    case reply(DNSMessage, maxSize: Int)
    /// Send these messages, in order, on the TCP connection (a zone transfer, RFC 5936).
    case transfer([DNSMessage])
    /// Ask the upstream resolvers and relay their answer; `query` is the parsed query.
    case forward(DNSMessage)
    case drop(DNSDropReason)
}

/// The pure DNS responder: query bytes and a zone snapshot in, a decision out. Owns no socket and no
/// clock, so every RFC rule here is tested from bytes.
public struct DNSResponder: Sendable {
    public var zones: DNSZoneSet
    /// Forward names outside every zone (with RD set) instead of answering REFUSED.
    public var forwarding: Bool
    /// Addresses allowed to transfer zones (AXFR over TCP).
    public var transferAllowList: Set<String>
    /// The UDP payload size the appliance offers and answers within (RFC 6891 §6.2.5; 1232 per DNS Flag
    /// Day 2020, which avoids IP fragmentation).
    public var maxUDPSize: Int

    public init(zones: DNSZoneSet = DNSZoneSet(), forwarding: Bool = false, transferAllowList: Set<String> = [], maxUDPSize: Int = 1232) {
        self.zones = zones
        self.forwarding = forwarding
        self.transferAllowList = transferAllowList
        self.maxUDPSize = maxUDPSize
    }

    /// Decides the answer to `bytes` from `client` (its IP address as text).
    public func respond(to bytes: [UInt8], transport: DNSTransport, client: @autoclosure () -> String) -> DNSDecision {
        guard let header = DNSMessage.header(of: bytes) else { return .drop(.malformed) }
        guard !header.isResponse else { return .drop(.response) }
        let query: DNSMessage
        do {
            query = try DNSMessage(parsing: bytes)
        } catch {
            // The header could be read: say FORMERR so the client stops retrying (RFC 1035 §4.1.1).
            return .reply(Self.reply(to: DNSMessage(header: header), rcode: .formErr), maxSize: 512)
        }
        let maxSize = transport == .tcp ? 65535 : udpSize(query)
        guard query.header.opcode == .query else {
            return .reply(Self.reply(to: query, rcode: .notImp, keepQuestion: query.questions.count == 1), maxSize: maxSize)
        }
        // One question per query (RFC 9619): none or several is a format error.
        guard query.questions.count == 1 else {
            return .reply(Self.reply(to: query, rcode: .formErr, keepQuestion: false), maxSize: maxSize)
        }
        if let edns = query.edns, edns.version != 0 {
            return .reply(Self.reply(to: query, rcode: .badVers), maxSize: maxSize)
        }
        let question = query.questions[0]
        switch question.type {
        case .axfr:
            return transfer(query, question: question, transport: transport, client: client())
        case .ixfr, .maila, .mailb:
            return .reply(Self.reply(to: query, rcode: .notImp), maxSize: maxSize)
        default:
            break
        }
        guard question.class == .in || question.class == .any else {
            return .reply(Self.reply(to: query, rcode: .refused), maxSize: maxSize)
        }
        guard let answer = zones.answer(question) else {
            if forwarding && query.header.recursionDesired { return .forward(query) }
            return .reply(Self.reply(to: query, rcode: .refused), maxSize: maxSize)
        }
        var response = Self.reply(to: query, rcode: answer.rcode)
        response.header.authoritative = answer.authoritative
        response.header.recursionAvailable = forwarding
        response.answers = answer.answers
        response.authority = answer.authority
        response.additional = answer.additional
        return .reply(response, maxSize: maxSize)
    }

    /// The client's EDNS size within ours, never below 512 (RFC 6891 §6.2.5); 512 without EDNS.
    func udpSize(_ query: DNSMessage) -> Int {
        guard let edns = query.edns else { return 512 }
        return max(512, min(Int(edns.udpPayloadSize), maxUDPSize))
    }

    /// AXFR (RFC 5936): TCP only, to allowed clients, for a zone apex we hold. SOA first and last; records
    /// in messages of at most ~60 KB; the question in the first message only (§2.2.1).
    func transfer(_ query: DNSMessage, question: DNSQuestion, transport: DNSTransport, client: String) -> DNSDecision {
        // Over UDP a transfer does not fit anything: FORMERR, as BIND and NSD answer.
        guard transport == .tcp else { return .reply(Self.reply(to: query, rcode: .formErr), maxSize: 512) }
        guard transferAllowList.contains(client) else { return .reply(Self.reply(to: query, rcode: .refused), maxSize: 65535) }
        guard let zone = zones[question.name], zone.origin == question.name.lowercased() else {
            return .reply(Self.reply(to: query, rcode: .notAuth), maxSize: 65535)
        }
        var messages: [DNSMessage] = []
        var current = Self.reply(to: query, rcode: .noError)
        current.header.authoritative = true
        var size = 0
        for record in zone.allRecords + [zone.soa] {
            let estimate = record.name.wire.count + 10 + 300
            if size + estimate > 60000 {
                messages.append(current)
                current.questions = []
                current.answers = []
                current.edns = nil
                size = 0
            }
            current.answers.append(record)
            size += estimate
        }
        messages.append(current)
        return .transfer(messages)
    }

    /// A response to `query`: same ID, opcode, RD and CD, QR set, the question echoed, and an OPT record if
    /// the query had one (RFC 6891 §7).
    public static func reply(to query: DNSMessage, rcode: DNSResponseCode, keepQuestion: Bool = true) -> DNSMessage {
        var header = DNSHeader(id: query.header.id)
        header.isResponse = true
        header.opcode = query.header.opcode
        header.recursionDesired = query.header.recursionDesired
        header.checkingDisabled = query.header.checkingDisabled
        var response = DNSMessage(header: header, questions: keepQuestion ? query.questions : [])
        if query.edns != nil { response.edns = DNSEDNS(udpPayloadSize: 1232) }
        response.rcode = rcode
        return response
    }
}
