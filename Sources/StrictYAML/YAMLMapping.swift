import Yams

/// A YAML mapping read key by key. Every key the reader asks for is marked as known; `finish()` then
/// reports each remaining key as unknown, at its own position, with a suggestion when one is close.
public final class YAMLMapping {
    public let owner: YAMLNode
    private let entries: [(key: YAMLNode, value: YAMLNode)]
    private var known: Set<String> = []

    init(owner: YAMLNode, entries: [(key: YAMLNode, value: YAMLNode)]) {
        self.owner = owner
        self.entries = entries
    }

    /// The keys present, in document order.
    public var keys: [String] { entries.compactMap { $0.key.node.scalar?.string } }

    /// The value under `key`, or nil when absent (or explicitly null, which means "use the default").
    public subscript(key: String) -> YAMLNode? {
        known.insert(key)
        guard let value = entries.first(where: { $0.key.node.scalar?.string == key })?.value else { return nil }
        return value.isNull ? nil : value
    }

    /// The value under `key`; records "missing required key" at the mapping when it is absent.
    public func required(_ key: String) -> YAMLNode? {
        guard let value = self[key] else {
            owner.error("missing required key '\(key)'")
            return nil
        }
        return value
    }

    /// Reports every key that was never asked for.
    public func finish() {
        for entry in entries {
            guard let name = entry.key.node.scalar?.string, !known.contains(name) else { continue }
            let hint = Self.closest(to: name, in: known).map { ": did you mean '\($0)'?" } ?? ""
            let allowed = known.sorted().joined(separator: ", ")
            entry.key.error("unknown key '\(name)'\(hint) (allowed here: \(allowed))")
        }
    }

    /// The known key within edit distance 2 of `name`, for typo hints.
    static func closest(to name: String, in candidates: Set<String>) -> String? {
        candidates
            .map { ($0, editDistance(Array(name), Array($0))) }
            .filter { $0.1 <= 2 }
            .min { $0.1 < $1.1 }?.0
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
