/// One zone's contents: its SOA and every record, indexed by lower-cased owner name. A value, so a
/// responder holds a consistent snapshot while the inventory changes (the next snapshot has a higher
/// serial).
public struct DNSZone: Sendable, Hashable {
    /// The apex, lower-cased.
    public let origin: DNSName
    public private(set) var soa: DNSResourceRecord
    /// Lower-cased owner → its records, in insertion order.
    private(set) var nodes: [DNSName: [DNSResourceRecord]] = [:]
    /// Names with no records but records below them (RFC 4592 §2.2.2 "empty non-terminals"): NODATA, not
    /// NXDOMAIN.
    private(set) var emptyNonTerminals: Set<DNSName> = []
    /// Owners of NS records below the apex: the zone cuts, where authority ends (RFC 1034 §4.2.1).
    private(set) var cuts: Set<DNSName> = []

    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case outOfZone(DNSResourceRecord)
        case cnameAndOtherData(DNSName)
        case notSOA

        public var description: String {
            switch self {
            case .outOfZone(let record): return "record outside the zone: \(record)"
            case .cnameAndOtherData(let name): return "\(name) has a CNAME and other records (RFC 1034 §3.6.2)"
            case .notSOA: return "the first record of a zone must be its SOA"
            }
        }
    }

    /// A zone of `soa` (whose owner is the apex) and `records`. A second SOA is ignored; duplicates are kept
    /// once.
    public init(soa: DNSResourceRecord, records: [DNSResourceRecord] = []) throws(Problem) {
        guard soa.type == .soa else { throw .notSOA }
        origin = soa.name.lowercased()
        self.soa = soa
        nodes[origin] = [soa]
        for record in records where record.type != .soa { try add(record) }
    }

    /// Adds a record; the name must be in the zone and a CNAME must stand alone at its name.
    public mutating func add(_ record: DNSResourceRecord) throws(Problem) {
        guard record.name.isSubdomain(of: origin) else { throw .outOfZone(record) }
        guard record.type != .soa else { return }
        let key = record.name.lowercased()
        var existing = nodes[key] ?? []
        guard !existing.contains(record) else { return }
        if !existing.isEmpty && (record.type == .cname || existing.contains { $0.type == .cname }) {
            throw .cnameAndOtherData(record.name)
        }
        existing.append(record)
        nodes[key] = existing
        if record.type == .ns && key != origin { cuts.insert(key) }
        emptyNonTerminals.remove(key)
        var parent = key.parent
        while let name = parent, name != origin, nodes[name] == nil {
            emptyNonTerminals.insert(name)
            parent = name.parent
        }
    }

    public var serial: UInt32 {
        get {
            guard case .soa(let fields) = soa.data else { return 0 }
            return fields.serial
        }
        set {
            guard case .soa(var fields) = soa.data else { return }
            fields.serial = newValue
            soa.data = .soa(fields)
            nodes[origin]?[0] = soa
        }
    }

    /// The records at `name` (already lower-cased), if the name exists.
    func records(at name: DNSName) -> [DNSResourceRecord]? { nodes[name] }

    func isEmptyNonTerminal(_ name: DNSName) -> Bool { emptyNonTerminals.contains(name) }

    /// The SOA for a negative answer: its TTL is the lesser of its own and MINIMUM (RFC 2308 §3).
    var negativeSOA: DNSResourceRecord {
        var record = soa
        if case .soa(let fields) = soa.data { record.ttl = min(soa.ttl, fields.minimum) }
        return record
    }

    /// Every record, SOA first, then in canonical name order: the body of a zone transfer (RFC 5936 §2.2).
    public var allRecords: [DNSResourceRecord] {
        var result = [soa]
        for name in nodes.keys.sorted() {
            result += nodes[name]!.filter { $0.type != .soa }
        }
        return result
    }

    /// Number of records, SOA included.
    public var count: Int { nodes.values.reduce(0) { $0 + $1.count } }
}
