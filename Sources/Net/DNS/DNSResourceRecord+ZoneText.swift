/// Records as zone-file lines (RFC 1035 §5.1): `owner [ttl] [class] type rdata`. Tests and static records
/// in the appliance config are written in it, and `description` prints the same form, which is also
/// what dig and ldns print.
extension DNSResourceRecord: CustomStringConvertible {
    public enum ZoneTextError: Error, Sendable, Hashable, CustomStringConvertible {
        case syntax(String)
        public var description: String {
            switch self { case .syntax(let why): return why }
        }
    }

    /// Parses one line. Relative names (no trailing dot) and `@` are taken relative to `origin`; TTL and
    /// class default to `defaultTTL` and IN. Unknown types use RFC 3597's `TYPEnnn \# len hex`.
    public init(zoneLine line: String, origin: DNSName = .root, defaultTTL: UInt32 = 300) throws(ZoneTextError) {
        var tokens = try Self.tokens(line)[...]
        guard let owner = tokens.popFirst() else { throw .syntax("empty record") }
        let name = try Self.name(owner, origin: origin)
        var ttl = defaultTTL
        var `class` = DNSClass.in
        var typeToken: String?
        while let token = tokens.popFirst() {
            if let value = UInt32(token) {
                ttl = value
            } else if token.uppercased() == "IN" {
                `class` = .in
            } else {
                typeToken = token
                break
            }
        }
        guard let typeToken, let type = DNSRecordType(mnemonic: typeToken) else { throw .syntax("no record type in '\(line)'") }
        let data = try Self.recordData(type, Array(tokens), origin: origin)
        self.init(name: name, class: `class`, ttl: ttl, data: data)
    }

    static func name(_ token: String, origin: DNSName) throws(ZoneTextError) -> DNSName {
        if token == "@" { return origin }
        guard let name = DNSName(token) else { throw .syntax("'\(token)' is not a domain name") }
        if token.hasSuffix(".") && !token.hasSuffix("\\.") { return name }
        guard let absolute = name.appending(origin) else { throw .syntax("'\(token)' is too long") }
        return absolute
    }

    static func recordData(_ type: DNSRecordType, _ fields: [String], origin: DNSName) throws(ZoneTextError) -> DNSRecordData {
        func need(_ count: Int) throws(ZoneTextError) {
            guard fields.count == count else { throw .syntax("\(type) needs \(count) fields, got \(fields.count)") }
        }
        func number<T: FixedWidthInteger>(_ text: String, _: T.Type) throws(ZoneTextError) -> T {
            guard let value = T(text) else { throw .syntax("'\(text)' is not a number") }
            return value
        }
        if fields.first == "\\#" {
            // RFC 3597 §5: \# length hex…
            guard fields.count >= 2, let length = Int(fields[1]) else { throw .syntax("bad \\# data") }
            let hex = fields.dropFirst(2).joined()
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
                guard let byte = UInt8(hex[index..<next], radix: 16) else { throw .syntax("bad hex '\(hex)'") }
                bytes.append(byte)
                index = next
            }
            guard bytes.count == length else { throw .syntax("\\# length \(length) but \(bytes.count) bytes") }
            var reader = DNSWireReader(bytes)
            do {
                return try DNSRecordData(parsing: &reader, type: type, length: length)
            } catch {
                throw .syntax("\(error)")
            }
        }
        switch type {
        case .a:
            try need(1)
            guard let address = IPv4Address(fields[0]) else { throw .syntax("'\(fields[0])' is not an IPv4 address") }
            return .a(address)
        case .aaaa:
            try need(1)
            guard let bytes = IPv6Text.parse(fields[0]) else { throw .syntax("'\(fields[0])' is not an IPv6 address") }
            return .aaaa(bytes)
        case .ns:
            try need(1)
            return .ns(try name(fields[0], origin: origin))
        case .cname:
            try need(1)
            return .cname(try name(fields[0], origin: origin))
        case .ptr:
            try need(1)
            return .ptr(try name(fields[0], origin: origin))
        case .mx:
            try need(2)
            return .mx(preference: try number(fields[0], UInt16.self), exchange: try name(fields[1], origin: origin))
        case .srv:
            try need(4)
            return .srv(
                priority: try number(fields[0], UInt16.self), weight: try number(fields[1], UInt16.self),
                port: try number(fields[2], UInt16.self), target: try name(fields[3], origin: origin))
        case .soa:
            try need(7)
            return .soa(
                DNSSOA(
                    primary: try name(fields[0], origin: origin), mailbox: try name(fields[1], origin: origin),
                    serial: try number(fields[2], UInt32.self), refresh: try number(fields[3], UInt32.self),
                    retry: try number(fields[4], UInt32.self), expire: try number(fields[5], UInt32.self),
                    minimum: try number(fields[6], UInt32.self)))
        case .txt:
            guard !fields.isEmpty else { throw .syntax("TXT needs at least one string") }
            let strings = fields.map { Array(unescape($0).utf8) }
            guard strings.allSatisfy({ $0.count <= 255 }) else { throw .syntax("TXT string longer than 255 bytes") }
            return .txt(strings)
        default:
            throw .syntax("type \(type) needs RFC 3597 form: \\# LENGTH HEX")
        }
    }

    /// Splits on blanks, keeping quoted strings whole (quotes removed, escapes kept for `unescape`);
    /// a `;` outside quotes starts a comment.
    static func tokens(_ line: String) throws(ZoneTextError) -> [String] {
        var tokens: [String] = []
        var current = ""
        var inQuotes = false, quoted = false, escaped = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                current.append(character)
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
                quoted = true
            } else if !inQuotes && character == ";" {
                break
            } else if !inQuotes && (character == " " || character == "\t") {
                if !current.isEmpty || quoted { tokens.append(current) }
                current = ""
                quoted = false
            } else {
                current.append(character)
            }
        }
        guard !inQuotes else { throw .syntax("unterminated quote in '\(line)'") }
        if !current.isEmpty || quoted { tokens.append(current) }
        return tokens
    }

    /// `\"` → `"`, `\\` → `\`, `\DDD` → the byte (ASCII only kept as text).
    static func unescape(_ text: String) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            guard byte == UInt8(ascii: "\\"), let next = input.first else {
                bytes.append(byte)
                continue
            }
            if (48...57).contains(next), input.count >= 3, let value = UInt8(String(decoding: input.prefix(3), as: UTF8.self)) {
                bytes.append(value)
                input = input.dropFirst(3)
            } else {
                bytes.append(next)
                input = input.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `name ttl class type rdata`, tab-separated as dig prints it.
    public var description: String {
        "\(name)\t\(ttl)\t\(`class`)\t\(type)\t\(data.zoneText)"
    }
}

extension DNSRecordData {
    /// The RDATA in presentation form.
    public var zoneText: String {
        switch self {
        case .a(let address): return "\(address)"
        case .aaaa(let bytes): return IPv6Text.format(bytes)
        case .ns(let name), .cname(let name), .ptr(let name): return "\(name)"
        case .mx(let preference, let exchange): return "\(preference) \(exchange)"
        case .srv(let priority, let weight, let port, let target): return "\(priority) \(weight) \(port) \(target)"
        case .soa(let soa):
            return "\(soa.primary) \(soa.mailbox) \(soa.serial) \(soa.refresh) \(soa.retry) \(soa.expire) \(soa.minimum)"
        case .txt(let strings):
            return strings.map { string in
                "\"" + string.map { byte -> String in
                    switch byte {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"): return "\\" + String(UnicodeScalar(byte))
                    case 32...126: return String(UnicodeScalar(byte))
                    default: return "\\" + String(repeating: "0", count: byte < 10 ? 2 : byte < 100 ? 1 : 0) + String(byte)
                    }
                }.joined() + "\""
            }.joined(separator: " ")
        case .opaque(_, let bytes):
            // RFC 3597 §5.
            return "\\# \(bytes.count)" + (bytes.isEmpty ? "" : " " + bytes.hexDigits())
        }
    }
}
