/// A resource record (RFC 1035 §4.1.3): owner, class, TTL and typed data.
public struct DNSResourceRecord: Sendable, Hashable {
    public var name: DNSName
    public var `class`: DNSClass
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, class: DNSClass = .in, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.class = `class`
        self.ttl = ttl
        self.data = data
    }

    public var type: DNSRecordType { data.type }

    init(parsing reader: inout DNSWireReader) throws(DNSParseError) {
        name = try reader.readName()
        let type = DNSRecordType(rawValue: try reader.readUInt16("type"))
        `class` = DNSClass(rawValue: try reader.readUInt16("class"))
        ttl = try reader.readUInt32("ttl")
        let length = Int(try reader.readUInt16("rdlength"))
        data = try DNSRecordData(parsing: &reader, type: type, length: length)
    }

    func write(to writer: inout DNSWireWriter) {
        writer.write(name)
        writer.write(type.rawValue)
        writer.write(`class`.rawValue)
        writer.write(ttl)
        let lengthAt = writer.count
        writer.write(UInt16(0))
        data.write(to: &writer)
        writer.set(UInt16(writer.count - lengthAt - 2), at: lengthAt)
    }

    /// The same record owned by `name` (the query's spelling, for case echo and wildcards).
    func owned(by name: DNSName) -> DNSResourceRecord {
        var copy = self
        copy.name = name
        return copy
    }
}
