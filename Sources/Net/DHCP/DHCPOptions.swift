/// One option: its code and its whole value, long options already joined (RFC 3396).
public struct DHCPOption: Sendable, Hashable {
    public var code: DHCPOptionCode
    public var value: [UInt8]

    public init(_ code: DHCPOptionCode, _ value: [UInt8]) {
        self.code = code
        self.value = value
    }
}

/// The options of a message in the order they came, unknown codes included, so a message round-trips.
///
/// RFC 3396 lives here and nowhere else: parsing joins every instance of a code into one value (in the
/// order options, file, sname), writing splits values longer than 255 bytes into consecutive instances.
/// Relay agent information (82) is always written last (RFC 3046 §2.1).
public struct DHCPOptions: Sendable, Hashable {
    public private(set) var all: [DHCPOption]

    public init(_ options: [DHCPOption] = []) {
        all = []
        for option in options { self[option.code] = option.value }
    }

    public subscript(code: DHCPOptionCode) -> [UInt8]? {
        get { all.first { $0.code == code }?.value }
        set {
            if let index = all.firstIndex(where: { $0.code == code }) {
                if let newValue { all[index].value = newValue } else { all.remove(at: index) }
            } else if let newValue {
                all.append(DHCPOption(code, newValue))
            }
        }
    }

    public func contains(_ code: DHCPOptionCode) -> Bool { all.contains { $0.code == code } }

    public var isEmpty: Bool { all.isEmpty }

    /// Joins the options of one area into `self`; pad is skipped, end stops the area.
    /// - Returns: true when the area ended with an end option.
    @discardableResult
    mutating func parse(_ bytes: ArraySlice<UInt8>, area: DHCPOptionArea) throws(DHCPParseError) -> Bool {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let code = bytes[index]
            index += 1
            if code == DHCPOptionCode.pad.rawValue { continue }
            if code == DHCPOptionCode.end.rawValue { return true }
            guard index < bytes.endIndex else { throw .optionOverrun(code: code, length: 1, available: 0, area: area) }
            let length = Int(bytes[index])
            index += 1
            guard bytes.endIndex - index >= length else {
                throw .optionOverrun(code: code, length: length, available: bytes.endIndex - index, area: area)
            }
            let value = bytes[index..<index + length]
            index += length
            let optionCode = DHCPOptionCode(code)
            if optionCode == .overload && area != .options { throw .overloadLoop(area) }
            if let existing = all.firstIndex(where: { $0.code == optionCode }) {
                all[existing].value += value
            } else {
                all.append(DHCPOption(optionCode, Array(value)))
            }
        }
        return false
    }

    /// The options as they go on the wire, without the end option: 82 last, values over 255 bytes split.
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(all.reduce(0) { $0 + $1.value.count + 2 })
        for option in all where option.code != .relayAgentInformation { Self.append(option, to: &bytes) }
        for option in all where option.code == .relayAgentInformation { Self.append(option, to: &bytes) }
        return bytes
    }

    /// One option as one or more code-length-value instances (RFC 3396 §5); an empty value is one instance.
    static func append(_ option: DHCPOption, to bytes: inout [UInt8]) {
        guard option.code != .pad && option.code != .end else { return }
        var rest = option.value[...]
        repeat {
            let chunk = rest.prefix(255)
            bytes.append(option.code.rawValue)
            bytes.append(UInt8(chunk.count))
            bytes += chunk
            rest = rest.dropFirst(chunk.count)
        } while !rest.isEmpty
    }

    /// Splits encoded options into pieces of at most `capacity` bytes each without cutting an instance.
    /// An instance is never longer than 257 bytes, so any capacity of 257 or more makes progress.
    static func instances(_ encoded: [UInt8]) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var index = 0
        while index < encoded.count {
            let length = Int(encoded[index + 1]) + 2
            result.append(encoded[index..<index + length])
            index += length
        }
        return result
    }
}
