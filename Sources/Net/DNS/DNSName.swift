/// A domain name, kept in uncompressed wire form: length-prefixed labels ending with the root's zero byte
/// (RFC 1035 §3.1). Equality is exact (the case a client sent is echoed back, RFC 4343 §4); zone lookups
/// use `lowercased()`, so matching is case-insensitive for ASCII and exact for other octets (RFC 4343 §3).
public struct DNSName: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The wire form, at most 255 octets.
    public private(set) var wire: [UInt8]

    public static let root = DNSName(uncheckedWire: [0])

    // The bytes in one call, not one `combine` per octet: zone lookups hash a name per query.
    public func hash(into hasher: inout Hasher) {
        wire.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    init(uncheckedWire wire: [UInt8]) { self.wire = wire }

    /// Parses presentation form: dot-separated labels, `\.` and `\DDD` escapes (RFC 1035 §5.1); a missing
    /// trailing dot is allowed (the name is absolute either way). Nil for empty labels or lengths past the
    /// limits.
    public init?(_ text: some StringProtocol) {
        if text == "." || text.isEmpty {
            self = .root
            return
        }
        var wire: [UInt8] = []
        var label: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        func endLabel() -> Bool {
            guard (1...63).contains(label.count) else { return false }
            wire.append(UInt8(label.count))
            wire += label
            label.removeAll(keepingCapacity: true)
            return true
        }
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "."):
                guard endLabel() else { return nil }
            case UInt8(ascii: "\\"):
                guard let next = bytes.popFirst() else { return nil }
                if (48...57).contains(next) {
                    guard bytes.count >= 2, let value = UInt8(String(decoding: [next] + bytes.prefix(2), as: UTF8.self)) else {
                        return nil
                    }
                    bytes = bytes.dropFirst(2)
                    label.append(value)
                } else {
                    label.append(next)
                }
            default:
                label.append(byte)
            }
        }
        if !label.isEmpty { guard endLabel() else { return nil } }
        wire.append(0)
        guard wire.count <= 255 else { return nil }
        self.wire = wire
    }

    /// The labels, leftmost first, without the root.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var index = 0
        while wire[index] != 0 {
            let length = Int(wire[index])
            result.append(wire[(index + 1)...(index + length)])
            index += length + 1
        }
        return result
    }

    public var labelCount: Int {
        var count = 0
        var index = 0
        while wire[index] != 0 {
            count += 1
            index += Int(wire[index]) + 1
        }
        return count
    }

    public var isRoot: Bool { wire.count == 1 }

    /// The name with ASCII letters folded to lower case: the key zones are looked up by.
    public func lowercased() -> DNSName {
        var copy = wire
        var index = 0
        while copy[index] != 0 {
            let end = index + Int(copy[index])
            var position = index + 1
            while position <= end {
                if copy[position] >= 65 && copy[position] <= 90 { copy[position] |= 0x20 }
                position += 1
            }
            index = end + 1
        }
        return DNSName(uncheckedWire: copy)
    }

    /// The name without its first label; the root's parent is nil.
    public var parent: DNSName? {
        guard !isRoot else { return nil }
        return DNSName(uncheckedWire: Array(wire[(Int(wire[0]) + 1)...]))
    }

    /// `label.self`, or nil past 63 or 255 octets.
    public func prepending(_ label: some Collection<UInt8>) -> DNSName? {
        guard (1...63).contains(label.count), wire.count + label.count + 1 <= 255 else { return nil }
        return DNSName(uncheckedWire: [UInt8(label.count)] + label + wire)
    }

    /// `self` followed by `origin` (for relative names in zone text), or nil past 255 octets.
    public func appending(_ origin: DNSName) -> DNSName? {
        guard wire.count - 1 + origin.wire.count <= 255 else { return nil }
        return DNSName(uncheckedWire: wire.dropLast() + origin.wire)
    }

    /// True when `self` is `zone` or below it, ignoring ASCII case.
    public func isSubdomain(of zone: DNSName) -> Bool {
        let mine = lowercased().wire, theirs = zone.lowercased().wire
        guard mine.count >= theirs.count else { return false }
        // The suffix must start on a label boundary.
        var index = 0
        while mine.count - index > theirs.count {
            index += Int(mine[index]) + 1
        }
        return mine.count - index == theirs.count && mine[index...].elementsEqual(theirs)
    }

    /// True when `suffix` ends this name on a label boundary, comparing bytes exactly (both sides already
    /// lower-cased).
    func hasSuffix(_ suffix: DNSName) -> Bool {
        let extra = wire.count - suffix.wire.count
        guard extra >= 0 else { return false }
        var index = 0
        while index < extra { index += Int(wire[index]) + 1 }
        guard index == extra else { return false }
        var position = 0
        while position < suffix.wire.count {
            if wire[extra + position] != suffix.wire[position] { return false }
            position += 1
        }
        return true
    }

    /// Presentation form with the trailing dot; dots, backslashes and non-printable octets escaped.
    public var description: String {
        if isRoot { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: ";"), UInt8(ascii: "("),
                    UInt8(ascii: ")"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    text += "\\" + String(UnicodeScalar(byte))
                case 33...126: text.unicodeScalars.append(UnicodeScalar(byte))
                default: text += "\\" + String(repeating: "0", count: byte < 10 ? 2 : byte < 100 ? 1 : 0) + String(byte)
                }
            }
            text += "."
        }
        return text
    }

    /// Canonical order (RFC 4034 §6.1): by labels from the right, case-insensitively. AXFR lists in it.
    public static func < (lhs: DNSName, rhs: DNSName) -> Bool {
        let left = lhs.lowercased().labels.reversed(), right = rhs.lowercased().labels.reversed()
        for (a, b) in zip(left, right) where a != b {
            return a.lexicographicallyPrecedes(b)
        }
        return left.count < right.count
    }
}
