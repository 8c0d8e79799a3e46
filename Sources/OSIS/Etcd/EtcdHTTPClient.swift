import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Calls etcd's JSON gateway on a list of members, failing over from one to the next.
///
/// Calls go to the member that last answered. When it cannot be reached the call moves on to the next
/// one, and so do later calls. A call whose connection broke after it was sent moves on only if it is
/// idempotent: a write might have been applied, and applying it twice would be wrong (a retried
/// compare-and-set would report a conflict with itself), so such a write fails as `unavailable` instead.
final class EtcdHTTPClient: Sendable {
    let endpoints: [EtcdEndpoint]
    private let pools: [EtcdConnectionPool]
    private let preferred = Atomic<Int>(0)

    init(endpoints: [EtcdEndpoint], connectionsPerEndpoint: Int) {
        self.endpoints = endpoints
        pools = endpoints.map { EtcdConnectionPool(endpoint: $0, maximum: connectionsPerEndpoint) }
    }

    /// POSTs `request` as JSON to `path` and decodes the 200 answer as `Response`.
    ///
    /// - Parameter idempotent: whether the call may be sent again to another member after a broken
    ///   connection or an "unavailable" answer.
    /// - Parameter leases: the leases the request names, to report which one etcd did not find.
    func call<Response: Decodable>(
        _ path: String, _ request: some Encodable, as: Response.Type, idempotent: Bool, leases: [KVLease.ID] = []
    ) async throws(KVError) -> Response {
        let body = try Self.encode(request)
        var failures: [String] = []
        let start = preferred.load(ordering: .relaxed)
        for offset in 0..<pools.count {
            let index = (start + offset) % pools.count
            let pool = pools[index]
            let response: EtcdHTTPResponse
            do {
                response = try await pool.post(path, body)
            } catch {
                switch error {
                case .cancelled:
                    // Not the endpoint's fault: fail this call only.
                    throw KVError.unavailable("\(path): cancelled before it was sent")
                case .dropped where !idempotent:
                    throw KVError.unavailable(
                        "\(pool.endpoint) \(path): \(error); the write may or may not have been applied")
                default:
                    break
                }
                failures.append("\(pool.endpoint): \(error)")
                moveOn(from: index)
                continue
            }
            guard response.status == .ok else {
                let status = Self.status(of: response)
                if status.grpcCode == EtcdStatusCode.unavailable, idempotent {
                    failures.append("\(pool.endpoint): \(status.text)")
                    moveOn(from: index)
                    continue
                }
                throw KVError(status, at: "\(pool.endpoint) \(path)", leases: leases)
            }
            return try Self.decode(Response.self, from: response.body, endpoint: pool.endpoint, path: path)
        }
        throw KVError.unavailable("no etcd endpoint answered \(path): " + failures.joined(separator: "; "))
    }

    /// Opens a server stream (a watch) on a connection of its own, trying the members in turn. The
    /// connection is not pooled: it belongs to the stream until `close()`.
    func openStream(_ path: String, _ request: some Encodable) async throws(KVError) -> EtcdHTTPStream {
        let body = try Self.encode(request)
        var failures: [String] = []
        let start = preferred.load(ordering: .relaxed)
        for offset in 0..<pools.count {
            let index = (start + offset) % pools.count
            do {
                let connection = try await EtcdHTTPConnection.connect(to: endpoints[index])
                let lines = connection.stream(path, body)
                return EtcdHTTPStream(endpoint: endpoints[index], connection: connection, lines: lines)
            } catch {
                failures.append("\(endpoints[index]): \(error)")
                moveOn(from: index)
            }
        }
        throw KVError.unavailable("no etcd endpoint answered \(path): " + failures.joined(separator: "; "))
    }

    func close() {
        for pool in pools { pool.close() }
    }

    /// Later calls and streams start at the member after `endpoint`: for a member that takes connections
    /// but does not serve (a stream ended before etcd confirmed it).
    func moveOn(from endpoint: EtcdEndpoint) {
        if let index = endpoints.firstIndex(of: endpoint) { moveOn(from: index) }
    }

    /// Later calls start at the member after `index`, unless another call already moved them on.
    private func moveOn(from index: Int) {
        _ = preferred.compareExchange(expected: index, desired: (index + 1) % pools.count, ordering: .relaxed)
    }

    static func encode(_ request: some Encodable) throws(KVError) -> ByteBuffer {
        do {
            return ByteBuffer(bytes: try JSONEncoder().encode(request))
        } catch {
            throw KVError.invalid("cannot encode etcd request: \(error)")
        }
    }

    static func decode<Value: Decodable>(
        _ type: Value.Type, from body: ByteBuffer, endpoint: EtcdEndpoint, path: String
    ) throws(KVError) -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: Data(body.readableBytesView))
        } catch {
            throw KVError.unavailable("\(endpoint) \(path): unreadable answer: \(String(buffer: body).prefix(200))")
        }
    }

    /// The gRPC status a non-200 answer carries, or one made up from the HTTP status.
    static func status(of response: EtcdHTTPResponse) -> EtcdStatus {
        (try? JSONDecoder().decode(EtcdStatus.self, from: Data(response.body.readableBytesView)))
            ?? EtcdStatus(
                code: EtcdStatusCode.unknown,
                message: "HTTP \(response.status.code) \(String(buffer: response.body).prefix(200))")
    }
}

/// A server stream's lines, and the connection that carries them.
struct EtcdHTTPStream: Sendable {
    let endpoint: EtcdEndpoint
    let connection: EtcdHTTPConnection
    let lines: AsyncThrowingStream<ByteBuffer, any Error>

    func close() { connection.close() }
}
