import Foundation

/// How an object sits in the KV store: one header line `<kind> <schema>\n`, then the object's JSON.
///
/// The JSON is kept exactly as encoded (not nested in another JSON document) so writing costs one
/// encode, and views can project fields from any kind without knowing its Swift type.
enum ObjectEnvelope {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static func encode<Object: OSISObject>(_ object: Object) throws -> Data {
        var data = Data("\(Object.kind) \(Object.schemaVersion)\n".utf8)
        data.append(try encoder.encode(object))
        return data
    }

    /// Splits stored bytes into kind, schema version and the JSON body.
    static func split(_ data: Data) -> (kind: String, schema: Int, body: Data)? {
        guard let newline = data.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let header = String(decoding: data[data.startIndex..<newline], as: UTF8.self).split(separator: " ")
        guard header.count == 2, let schema = Int(header[1]) else { return nil }
        return (String(header[0]), schema, data[data.index(after: newline)...])
    }

    static func decode<Object: OSISObject>(_ type: Object.Type, id: String, from data: Data) throws(OSISError) -> Object {
        guard let (kind, schema, body) = split(data) else {
            throw OSISError.corrupt(kind: Object.kind, id: id, reason: "no envelope header")
        }
        guard kind == Object.kind else { throw OSISError.corrupt(kind: Object.kind, id: id, reason: "stored kind is '\(kind)'") }
        guard schema <= Object.schemaVersion else {
            throw OSISError.corrupt(
                kind: Object.kind, id: id, reason: "written with schema \(schema), this build reads up to \(Object.schemaVersion)")
        }
        do {
            return try decoder.decode(Object.self, from: body)
        } catch {
            throw OSISError.corrupt(kind: Object.kind, id: id, reason: "\(error)")
        }
    }
}
