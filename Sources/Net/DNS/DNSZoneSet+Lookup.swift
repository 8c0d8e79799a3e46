/// What an authoritative lookup found: the sections of a response and its code.
public struct DNSAnswer: Sendable, Hashable {
    public var rcode: DNSResponseCode = .noError
    /// False for a referral to a delegated child (RFC 1034 §4.3.2 step 3b).
    public var authoritative = true
    public var answers: [DNSResourceRecord] = []
    public var authority: [DNSResourceRecord] = []
    public var additional: [DNSResourceRecord] = []
}

extension DNSZoneSet {
    /// CNAME chains longer than this are cut (a loop inside the zone would otherwise never end).
    static let maxChain = 8

    /// The authoritative answer to `question` (RFC 1034 §4.3.2 without wildcards, RFC 2308 for negative
    /// answers), or nil when the name is in none of the zones. Records owned by the query name carry its
    /// spelling, so the client's case comes back (RFC 4343 §4).
    public func answer(_ question: DNSQuestion) -> DNSAnswer? {
        let key = question.name.lowercased()
        guard let zone = zone(containing: key) else { return nil }
        var result = DNSAnswer()
        var owner = question.name
        var lowered = key
        var visited: Set<DNSName> = []
        var currentZone = zone
        while true {
            if let referral = currentZone.delegation(above: lowered) {
                // Below a zone cut: a referral, not an answer (step 3b). After a CNAME the answer so far stands.
                if result.answers.isEmpty {
                    result.authoritative = false
                    result.authority = referral
                    result.additional = glue(for: referral, in: currentZone)
                }
                return result
            }
            guard let records = currentZone.records(at: lowered) else {
                if !currentZone.isEmptyNonTerminal(lowered) { result.rcode = .nxDomain }
                result.authority = [currentZone.negativeSOA]
                return result
            }
            if question.type != .cname, let cname = records.first(where: { $0.type == .cname }),
                case .cname(let target) = cname.data
            {
                result.answers.append(cname.owned(by: owner))
                visited.insert(lowered)
                let targetKey = target.lowercased()
                // Followed only inside our zones (step 3a); outside them the client's resolver goes on.
                guard visited.count < Self.maxChain, !visited.contains(targetKey), let next = self.zone(containing: targetKey)
                else { return result }
                owner = target
                lowered = targetKey
                currentZone = next
                continue
            }
            let matching = question.type == .any ? records : records.filter { $0.type == question.type }
            if matching.isEmpty {
                result.authority = [currentZone.negativeSOA]
                return result
            }
            result.answers += matching.map { $0.owned(by: owner) }
            result.additional = additional(for: matching)
            return result
        }
    }

    /// A and AAAA records of the names NS, MX and SRV answers point at, when we hold them (RFC 1035 §3.3).
    func additional(for records: [DNSResourceRecord]) -> [DNSResourceRecord] {
        var result: [DNSResourceRecord] = []
        for record in records {
            guard let target = record.data.target?.lowercased(), let zone = zone(containing: target),
                zone.delegation(above: target) == nil, let records = zone.records(at: target)
            else { continue }
            result += records.filter { ($0.type == .a || $0.type == .aaaa) && !result.contains($0) }
        }
        return result
    }

    /// Glue: addresses of the delegated name servers held in the parent zone (RFC 1034 §4.2.1).
    func glue(for referral: [DNSResourceRecord], in zone: DNSZone) -> [DNSResourceRecord] {
        referral.flatMap { record -> [DNSResourceRecord] in
            guard let target = record.data.target?.lowercased() else { return [] }
            return zone.records(at: target)?.filter { $0.type == .a || $0.type == .aaaa } ?? []
        }
    }
}

extension DNSZone {
    /// The NS records of the highest zone cut between the apex (exclusive) and `name` (inclusive), if any.
    func delegation(above name: DNSName) -> [DNSResourceRecord]? {
        guard !cuts.isEmpty, name != origin else { return nil }
        var chain: [DNSName] = []
        var current: DNSName? = name
        while let candidate = current, candidate != origin {
            chain.append(candidate)
            current = candidate.parent
        }
        for candidate in chain.reversed() {
            if cuts.contains(candidate), let ns = records(at: candidate)?.filter({ $0.type == .ns }) { return ns }
        }
        return nil
    }
}
