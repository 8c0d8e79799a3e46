/// IPv6 addresses as text (RFC 4291 §2.2 to parse, RFC 5952 to print), for AAAA records and ip6.arpa names.
public enum IPv6Text {
    /// The 16 bytes of `text`, or nil. Accepts `::` compression and a trailing dotted IPv4 part.
    public static func parse(_ text: some StringProtocol) -> [UInt8]? {
        var text = String(text)
        // A trailing dotted IPv4 part becomes two hex groups.
        if let lastColon = text.lastIndex(of: ":"), text[lastColon...].contains(".") {
            guard let v4 = IPv4Address(text[text.index(after: lastColon)...]) else { return nil }
            text = String(text[...lastColon]) + String(v4.value >> 16, radix: 16) + ":" + String(v4.value & 0xFFFF, radix: 16)
        }
        var halves = [text]
        let characters = Array(text)
        if let gap = characters.indices.dropLast().first(where: { characters[$0] == ":" && characters[$0 + 1] == ":" }) {
            halves = [String(characters[..<gap]), String(characters[(gap + 2)...])]
            guard !halves[1].contains("::") else { return nil }
        }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        let wanted = 8
        var all: [UInt16]
        if halves.count == 2 {
            guard let rest = groups(halves[1]), head.count + rest.count < wanted else { return nil }
            all = head + Array(repeating: 0, count: wanted - head.count - rest.count) + rest
        } else {
            guard head.count == wanted else { return nil }
            all = head
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// RFC 5952: lower case, leading zeros dropped, the longest run of two or more zero groups as `::`.
    public static func format(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return "\\# \(bytes.count)" }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var best = (start: -1, length: 0), run = (start: -1, length: 0)
        for (index, group) in groups.enumerated() {
            if group == 0 {
                run = run.start < 0 ? (index, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        return hex[..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.length)...].joined(separator: ":")
    }
}
