public import NIOCore

/// A DNS message (RFC 1035 §4.1): header, question, answer, authority and additional sections, with the
/// OPT pseudo-record lifted out of the additional section into `edns` (RFC 6891).
public struct DNSMessage: Sendable, Hashable {
    public var header: DNSHeader
    public var questions: [DNSQuestion]
    public var answers: [DNSResourceRecord]
    public var authority: [DNSResourceRecord]
    /// The additional section without the OPT record.
    public var additional: [DNSResourceRecord]
    public var edns: DNSEDNS?

    public init(
        header: DNSHeader = DNSHeader(), questions: [DNSQuestion] = [], answers: [DNSResourceRecord] = [],
        authority: [DNSResourceRecord] = [], additional: [DNSResourceRecord] = [], edns: DNSEDNS? = nil
    ) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
        self.edns = edns
    }

    /// The header alone, when the rest cannot be read: enough to answer FORMERR (RFC 1035 §4.1.1).
    public static func header(of bytes: some Collection<UInt8>) -> DNSHeader? {
        guard bytes.count >= 12 else { return nil }
        let start = bytes.startIndex
        let word = { (offset: Int) in UInt16(bytes[bytes.index(start, offsetBy: offset)]) << 8 | UInt16(bytes[bytes.index(start, offsetBy: offset + 1)]) }
        return DNSHeader(id: word(0), flags: word(2))
    }

    /// Parses a whole message: every counted record must be there, and nothing after them.
    public init(parsing bytes: [UInt8]) throws(DNSParseError) {
        var reader = DNSWireReader(bytes)
        header = DNSHeader(id: try reader.readUInt16("id"), flags: try reader.readUInt16("flags"))
        let counts = [try reader.readUInt16("qdcount"), try reader.readUInt16("ancount"), try reader.readUInt16("nscount"), try reader.readUInt16("arcount")]
        // Each question needs at least 5 bytes and each record 11: counts that lie fail here, before any
        // array is sized by them.
        guard Int(counts[0]) * 5 <= reader.remaining else { throw .truncated(field: "question", offset: reader.offset) }
        questions = []
        for _ in 0..<counts[0] { questions.append(try DNSQuestion(parsing: &reader)) }
        answers = try Self.readRecords(Int(counts[1]), &reader)
        authority = try Self.readRecords(Int(counts[2]), &reader)
        additional = []
        edns = nil
        for record in try Self.readRecords(Int(counts[3]), &reader) {
            if record.type == .opt {
                guard edns == nil else { throw .badOPT("more than one OPT record") }
                edns = try DNSEDNS(record: record)
            } else {
                additional.append(record)
            }
        }
        if answers.contains(where: { $0.type == .opt }) || authority.contains(where: { $0.type == .opt }) {
            throw .badOPT("OPT outside the additional section")
        }
        guard reader.remaining == 0 else { throw .trailingBytes(reader.remaining) }
    }

    public init(parsing buffer: ByteBuffer) throws(DNSParseError) {
        try self.init(parsing: Array(buffer.readableBytesView))
    }

    private static func readRecords(_ count: Int, _ reader: inout DNSWireReader) throws(DNSParseError) -> [DNSResourceRecord] {
        guard count * 11 <= reader.remaining else { throw .truncated(field: "record", offset: reader.offset) }
        var records: [DNSResourceRecord] = []
        records.reserveCapacity(count)
        for _ in 0..<count { records.append(try DNSResourceRecord(parsing: &reader)) }
        return records
    }

    /// The full response code: the header's four bits with the OPT record's eight above them.
    public var rcode: DNSResponseCode {
        get { DNSResponseCode(rawValue: UInt16(edns?.extendedRCode ?? 0) << 4 | UInt16(header.rcodeLow)) }
        set {
            header.rcodeLow = UInt8(newValue.rawValue & 0xF)
            edns?.extendedRCode = UInt8(newValue.rawValue >> 4)
        }
    }

    /// Writes the message in at most `maxSize` bytes. Records that do not fit are left out: if an answer or
    /// authority record is left out the TC bit is set (RFC 2181 §9); additional records are just dropped.
    /// The OPT record always fits: its room is kept from the start (RFC 6891 §7).
    public func write(into buffer: inout ByteBuffer, maxSize: Int = 65535) {
        var writer = DNSWireWriter(buffer: buffer)
        // The writer holds the only reference while it writes, so the first write does not copy the storage.
        buffer = Self.placeholder
        var header = self.header
        writer.write(header.id)
        writer.write(header.flags)
        for _ in 0..<4 { writer.write(UInt16(0)) }
        for question in questions { question.write(to: &writer) }
        let optRecord = edns?.record
        var optSize = 0
        if let optRecord {
            var probe = DNSWireWriter()
            optRecord.write(to: &probe)
            optSize = probe.count
        }
        let limit = max(maxSize - optSize, writer.count)
        var counts: [Int] = [questions.count, 0, 0, 0]
        var full = false
        for (section, records) in [(1, answers), (2, authority), (3, additional)] where !full {
            for record in records {
                let before = writer.count
                record.write(to: &writer)
                if writer.count > limit {
                    writer.truncate(to: before)
                    if section < 3 { header.truncated = true }
                    full = true
                    break
                }
                counts[section] += 1
            }
        }
        if let optRecord {
            optRecord.write(to: &writer)
            counts[3] += 1
        }
        writer.set(header.flags, at: 2)
        for (index, count) in counts.enumerated() { writer.set(UInt16(count), at: 4 + 2 * index) }
        buffer = writer.buffer
    }

    private static let placeholder = ByteBuffer()

    /// The message as bytes, at most `maxSize` of them.
    public func bytes(maxSize: Int = 65535) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(into: &buffer, maxSize: maxSize)
        return buffer
    }
}
