import NIOCore

/// The options of a request or an OACK, in wire order, names and values as sent (RFC 2347 §2).
///
/// Unknown options are kept so they round-trip; `TFTPNegotiation` reads the ones it knows.
public struct TFTPOptionList: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public struct Option: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var entries: [Option]

    public init(_ entries: [Option] = []) { self.entries = entries }

    public init(dictionaryLiteral elements: (String, String)...) {
        entries = elements.map { Option($0.0, $0.1) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The value of the first option called `name`, compared case-insensitively (RFC 2347 §2).
    public subscript(name: String) -> String? {
        entries.first { $0.name.lowercased() == name }?.value
    }

    /// Reads name/value pairs until the datagram ends; a name without a value is an error.
    init(parsing buffer: inout ByteBuffer) throws(TFTPParseError) {
        entries = []
        while buffer.readableBytes > 0 {
            let name = try buffer.readTFTPString(field: "option name")
            guard buffer.readableBytes > 0 else { throw .optionWithoutValue(name) }
            let value = try buffer.readTFTPString(field: "option value")
            entries.append(Option(name, value))
        }
    }

    func write(to buffer: inout ByteBuffer) {
        for option in entries {
            buffer.writeTFTPString(option.name)
            buffer.writeTFTPString(option.value)
        }
    }
}
