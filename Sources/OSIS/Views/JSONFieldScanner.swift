import Foundation

/// A top-level field of a JSON object, as a view column needs it.
enum JSONField: Equatable {
    case string(String)
    /// The number as written, so integers keep every digit.
    case number(String)
    case bool(Bool)
    case null
    /// An object or array, as its JSON text.
    case composite(String)
}

/// Reads a few top-level fields of a JSON object without building the document.
///
/// View projection needs three or four fields of every object written; `JSONSerialization` builds a
/// dictionary of boxed values for all of them, which cost as much as encoding the object in the
/// first place. This scanner skips what it is not asked for and decodes only the strings it returns.
struct JSONFieldScanner {
    private let bytes: UnsafeRawBufferPointer
    private var at = 0

    /// The values of `names` in that order (`.null` for a field that is absent), or nil when `json` is
    /// not a well-formed object at the top level.
    static func fields<Names: Collection<String>>(_ names: Names, of json: Data) -> [JSONField]? {
        json.withUnsafeBytes { bytes in
            var scanner = JSONFieldScanner(bytes: bytes)
            return try? scanner.object(names)
        }
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private struct Malformed: Error {}

    private mutating func object<Names: Collection<String>>(_ names: Names) throws(Malformed) -> [JSONField] {
        var found = [JSONField](repeating: .null, count: names.count)
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") { return found }
        while true {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            if let slot = names.firstIndex(of: key) {
                found[names.distance(from: names.startIndex, to: slot)] = try value()
            } else {
                try skipValue()
            }
            let next = try peek()
            at += 1
            if next == UInt8(ascii: "}") { break }
            guard next == UInt8(ascii: ",") else { throw Malformed() }
        }
        skipWhitespace()
        guard at == bytes.count else { throw Malformed() }
        return found
    }

    private mutating func value() throws(Malformed) -> JSONField {
        let start = try peekIndex()
        switch bytes[start] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try skipValue()
            return .composite(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self))
        default:
            let literal = scalarText()
            switch literal {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            default:
                guard Double(literal) != nil else { throw Malformed() }
                return .number(literal)
            }
        }
    }

    private mutating func skipValue() throws(Malformed) {
        let start = try peekIndex()
        switch bytes[start] {
        case UInt8(ascii: "\""):
            _ = try string(decoding: false)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            repeat {
                guard at < bytes.count else { throw Malformed() }
                switch bytes[at] {
                case UInt8(ascii: "\""):
                    _ = try string(decoding: false)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
                at += 1
            } while depth > 0
        default:
            guard !scalarText().isEmpty else { throw Malformed() }
        }
    }

    /// A number or a literal: everything up to the next delimiter.
    private mutating func scalarText() -> String {
        let start = at
        while at < bytes.count {
            switch bytes[at] {
            case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\n"),
                UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
            default: at += 1
            }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
    }

    /// A string starting at the next non-blank byte; with `decoding` false it is only skipped.
    private mutating func string(decoding: Bool = true) throws(Malformed) -> String {
        try expect(UInt8(ascii: "\""))
        let start = at
        var escaped = false
        while true {
            guard at < bytes.count else { throw Malformed() }
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                at += 1
            }
            at += 1
        }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<at])
        at += 1
        guard decoding else { return "" }
        return escaped ? try Self.unescape(raw) : String(decoding: raw, as: UTF8.self)
    }

    private static func unescape(_ raw: UnsafeRawBufferPointer) throws(Malformed) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(raw.count)
        var index = 0
        func hex4(_ at: Int) throws(Malformed) -> UInt32 {
            guard at + 4 <= raw.count,
                let value = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: raw[at..<at + 4]), as: UTF8.self), radix: 16)
            else { throw Malformed() }
            return value
        }
        while index < raw.count {
            let byte = raw[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                text.append(byte)
                continue
            }
            guard index < raw.count else { throw Malformed() }
            let escape = raw[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escape)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(index)
                index += 4
                // A UTF-16 surrogate pair spells one scalar beyond the BMP in two escapes.
                if (0xD800..<0xDC00).contains(scalar), index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"),
                    raw[index + 1] == UInt8(ascii: "u")
                {
                    let low = try hex4(index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                text.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default: throw Malformed()
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    private mutating func skipWhitespace() {
        while at < bytes.count {
            switch bytes[at] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): at += 1
            default: return
            }
        }
    }

    private mutating func peekIndex() throws(Malformed) -> Int {
        skipWhitespace()
        guard at < bytes.count else { throw Malformed() }
        return at
    }

    private mutating func peek() throws(Malformed) -> UInt8 { bytes[try peekIndex()] }

    private mutating func expect(_ byte: UInt8) throws(Malformed) {
        guard try peek() == byte else { throw Malformed() }
        at += 1
    }
}
