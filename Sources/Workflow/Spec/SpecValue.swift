import Foundation

/// A value in a spec or a run: a parameter, an argument, an output.
public enum SpecValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case bool(Bool)
    case duration(Duration)
    case list([SpecValue])

    public var type: ValueType {
        switch self {
        case .string: return .string
        case .int: return .int
        case .bool: return .bool
        case .duration: return .duration
        case .list: return .list
        }
    }

    /// The text a template substitutes for the value.
    public var description: String {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .bool(let value): return String(value)
        case .duration(let value): return DurationFormatting.text(value)
        case .list(let values): return values.map(\.description).joined(separator: ",")
        }
    }

    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var int: Int? { if case .int(let value) = self { value } else { nil } }
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var duration: Duration? { if case .duration(let value) = self { value } else { nil } }

    /// Converts text (e.g. a substituted template, or an API parameter) to `type`.
    public static func parse(_ text: String, as type: ValueType) -> SpecValue? {
        switch type {
        case .string: return .string(text)
        case .int: return Int(text).map(SpecValue.int)
        case .bool: return text == "true" ? .bool(true) : text == "false" ? .bool(false) : nil
        case .duration: return DurationFormatting.parse(text).map(SpecValue.duration)
        case .list: return .list(text.split(separator: ",").map { .string(String($0)) })
        }
    }

    // Codable as a tagged single-key object, e.g. {"int": 3}, so types survive the round trip.
    private enum Key: String, CodingKey { case string, int, bool, duration, list }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "empty value"))
        }
        switch key {
        case .string: self = .string(try container.decode(String.self, forKey: key))
        case .int: self = .int(try container.decode(Int.self, forKey: key))
        case .bool: self = .bool(try container.decode(Bool.self, forKey: key))
        case .duration: self = .duration(.milliseconds(try container.decode(Int64.self, forKey: key)))
        case .list: self = .list(try container.decode([SpecValue].self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .string(let value): try container.encode(value, forKey: .string)
        case .int(let value): try container.encode(value, forKey: .int)
        case .bool(let value): try container.encode(value, forKey: .bool)
        case .duration(let value):
            try container.encode(value.components.seconds * 1000 + value.components.attoseconds / 1_000_000_000_000_000, forKey: .duration)
        case .list(let value): try container.encode(value, forKey: .list)
        }
    }
}
