/// Lower-case hexadecimal text for bytes: MACs, client identifiers, opaque option values.
///
/// One pass into a byte buffer; `String(format:)` costs microseconds a byte on Linux, and the DHCP
/// responder prints a MAC or a client identifier for every lease it stores.
extension Sequence<UInt8> {
    public func hexDigits(separator: UInt8? = nil) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 3)
        for byte in self {
            if let separator, !text.isEmpty { text.append(separator) }
            text.append(hexDigit(byte >> 4))
            text.append(hexDigit(byte & 0xF))
        }
        return String(decoding: text, as: UTF8.self)
    }
}

@inline(__always)
private func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
}
