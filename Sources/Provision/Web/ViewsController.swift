import Foundation
import Hummingbird
import NIOCore
import OSIS

/// `GET /api/v1/views/{kind}`: list objects of a kind from its SQL view.
///
/// Query parameters: any view column as `column=value` (or `column=op:value` with op one of
/// eq, ne, lt, le, gt, ge, prefix), `sort=column` (`-column` for descending), `limit` (1–1000,
/// default 100) and `offset`. A bad parameter answers 400 with the reason.
struct ViewsController: Sendable {
    let index: ViewIndex

    func add(to router: Router<some RequestContext>) {
        router.get("api/v1/views/:kind") { request, context in
            let kind = try context.parameters.require("kind")
            let query = try Self.query(kind: kind, parameters: request.uri.queryParameters)
            do {
                return Self.response(kind: kind, query: query, page: try await index.query(query))
            } catch let error as ViewQueryError {
                if case .unknownKind = error { throw HTTPError(.notFound, message: "\(error)") }
                throw HTTPError(.badRequest, message: "\(error)")
            }
        }
    }

    /// The page as JSON, with each object's stored JSON embedded byte for byte rather than re-encoded.
    static func response(kind: String, query: ViewQuery, page: ViewPage) -> Response {
        let encoder = JSONEncoder()
        func quoted(_ text: String) -> String {
            String(decoding: (try? encoder.encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
        }
        var body = "{\"kind\":\(quoted(kind)),\"total\":\(page.total),\"offset\":\(query.offset),\"revision\":\(page.revision),\"items\":["
        for (index, row) in page.rows.enumerated() {
            if index > 0 { body += "," }
            body += "{\"id\":\(quoted(row.id)),\"revision\":\(row.revision),\"object\":\(row.json)}"
        }
        body += "]}"
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func query(kind: String, parameters: Parameters) throws -> ViewQuery {
        var query = ViewQuery(kind: kind)
        for (key, value) in parameters {
            let key = String(key)
            let value = String(value)
            switch key {
            case "sort":
                query.descending = value.hasPrefix("-")
                query.sortBy = query.descending ? String(value.dropFirst()) : value
            case "limit":
                guard let limit = Int(value) else { throw HTTPError(.badRequest, message: "limit must be a number, not '\(value)'") }
                query.limit = limit
            case "offset":
                guard let offset = Int(value), offset >= 0 else { throw HTTPError(.badRequest, message: "offset must be a number ≥ 0, not '\(value)'") }
                query.offset = offset
            default:
                query.filters.append(filter(column: key, value))
            }
        }
        return query
    }

    /// `value` or `op:value`; numbers compare as numbers so `progress=gt:50` works on integer columns.
    static func filter(column: String, _ text: String) -> ViewQuery.Filter {
        var op = ViewQuery.Operator.equal
        var rest = Substring(text)
        if let colon = text.firstIndex(of: ":"), let parsed = ViewQuery.Operator(rawValue: String(text[..<colon])) {
            op = parsed
            rest = text[text.index(after: colon)...]
        }
        if op != .prefix, let number = Int64(rest) { return .init(column, op, .integer(number)) }
        return .init(column, op, .text(String(rest)))
    }
}
