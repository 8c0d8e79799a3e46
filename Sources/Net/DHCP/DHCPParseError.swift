/// Why a datagram is not a DHCP message. The responder drops and counts it; it never answers one.
public enum DHCPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The datagram ends inside the fixed BOOTP header or the magic cookie (RFC 2131 §2: 236 + 4 bytes).
    case truncated(field: String, needed: Int, available: Int)
    /// `op` is neither BOOTREQUEST (1) nor BOOTREPLY (2).
    case badOpcode(UInt8)
    /// `hlen` larger than the 16-byte `chaddr` field.
    case badHardwareLength(UInt8)
    /// The first four option bytes are not 99.130.83.99 (RFC 2131 §3).
    case badMagicCookie(UInt32)
    /// An option whose length byte (or whose length byte itself) runs past the end of its area.
    case optionOverrun(code: UInt8, length: Int, available: Int, area: DHCPOptionArea)
    /// Option 52 with a value other than 1, 2 or 3, or of the wrong length (RFC 2132 §9.3).
    case badOverload([UInt8])
    /// Option 52 inside `file` or `sname`: an overload loop (RFC 2132 §9.3 allows it only in `options`).
    case overloadLoop(DHCPOptionArea)
    /// An option the responder acts on with a malformed value (checked by `DHCPRequest`).
    case badOption(code: UInt8, reason: String)

    public var description: String {
        switch self {
        case .truncated(let field, let needed, let available): return "truncated \(field): needs \(needed) bytes, \(available) left"
        case .badOpcode(let op): return "bad op \(op)"
        case .badHardwareLength(let hlen): return "hlen \(hlen) > 16"
        case .badMagicCookie(let cookie): return "bad magic cookie 0x\(String(cookie, radix: 16))"
        case .optionOverrun(let code, let length, let available, let area):
            return "option \(code) of length \(length) runs past the end of \(area) (\(available) bytes left)"
        case .badOverload(let value): return "bad option overload value \(value)"
        case .overloadLoop(let area): return "option overload inside \(area)"
        case .badOption(let code, let reason): return "option \(code): \(reason)"
        }
    }
}

/// Where options can live (RFC 2131 §4.1, RFC 2132 §9.3).
public enum DHCPOptionArea: String, Sendable, Hashable {
    case options, file, sname
}
