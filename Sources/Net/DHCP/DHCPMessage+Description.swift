/// A stable one-line rendering, for logs and for the golden files of the capture tests.
extension DHCPMessage: CustomStringConvertible {
    public var description: String {
        var parts = [messageType.map { "\($0)" } ?? (op == .request ? "BOOTREQUEST" : "BOOTREPLY")]
        parts.append("xid=0x" + String(xid, radix: 16))
        parts.append("chaddr=\(hardwareAddress)")
        if htype != 1 || hlen != 6 { parts.append("htype=\(htype) hlen=\(hlen)") }
        if hops != 0 { parts.append("hops=\(hops)") }
        if secs != 0 { parts.append("secs=\(secs)") }
        if flags != 0 { parts.append(broadcast && flags == 0x8000 ? "broadcast" : "flags=0x" + String(flags, radix: 16)) }
        for (name, address) in [("ciaddr", ciaddr), ("yiaddr", yiaddr), ("siaddr", siaddr), ("giaddr", giaddr)] where address != .any {
            parts.append("\(name)=\(address)")
        }
        if let name = Self.cString(sname) { parts.append("sname=\(name)") }
        if let name = Self.cString(file) { parts.append("file=\(name)") }
        for option in options.all where option.code != .messageType {
            parts.append("\(option.code)=\(Self.render(option))")
        }
        if !trailer.isEmpty { parts.append("+\(trailer.count)") }
        return parts.joined(separator: " ")
    }

    static func cString(_ bytes: [UInt8]) -> String? {
        let text = bytes.prefix { $0 != 0 }
        guard !text.isEmpty else { return nil }
        return render(text: Array(text))
    }

    static let addressCodes: Set<UInt8> = [1, 3, 6, 28, 50, 54, 42, 44, 118]
    static let textCodes: Set<UInt8> = [12, 15, 56, 60, 66, 67]

    static func render(_ option: DHCPOption) -> String {
        let value = option.value
        let code = option.code.rawValue
        if addressCodes.contains(code), !value.isEmpty, value.count % 4 == 0 {
            return stride(from: 0, to: value.count, by: 4).map { "\(IPv4Address(value[$0], value[$0 + 1], value[$0 + 2], value[$0 + 3]))" }
                .joined(separator: ",")
        }
        if textCodes.contains(code) { return render(text: value) }
        switch (code, value.count) {
        case (51, 4), (58, 4), (59, 4): return "\(value.reduce(0) { $0 << 8 | UInt32($1) })"
        case (57, 2): return "\(UInt16(value[0]) << 8 | UInt16(value[1]))"
        case (55, _): return value.map(String.init).joined(separator: ",")
        case (93, _) where value.count % 2 == 0:
            return stride(from: 0, to: value.count, by: 2).map { "\(UInt16(value[$0]) << 8 | UInt16(value[$0 + 1]))" }.joined(separator: ",")
        default: return value.isEmpty ? "\"\"" : value.hexDigits()
        }
    }

    /// Printable ASCII in quotes; anything else escaped, so a golden line stays one line.
    static func render(text bytes: [UInt8]) -> String {
        var text = "\""
        for byte in bytes {
            if (0x20..<0x7f).contains(byte) && byte != 0x22 && byte != 0x5c {
                text.append(Character(UnicodeScalar(byte)))
            } else {
                text += "\\x" + CollectionOfOne(byte).hexDigits()
            }
        }
        return text + "\""
    }
}
