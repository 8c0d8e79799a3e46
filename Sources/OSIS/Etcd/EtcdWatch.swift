import Foundation
import NIOCore

/// One watch: a streaming `/v3/watch` call on a connection of its own, started again after the last
/// delivered revision whenever the stream drops, so a dropped connection or a restarted member loses no
/// event and repeats none.
///
/// Like etcd's own client it keeps trying until cancelled, backing off up to `maximumBackoff`: a watch
/// outlives an etcd outage. Only a compacted start revision ends it with an error.
struct EtcdWatch: Sendable {
    let client: EtcdHTTPClient
    let prefix: String
    let after: Int64

    static let maximumBackoff: Duration = .seconds(2)

    /// Feeds `continuation` until the watch is cancelled or its history was compacted.
    func run(_ continuation: KVWatch.Continuation) async {
        var delivered = after
        var backoff: Duration = .milliseconds(50)
        while !Task.isCancelled {
            let before = delivered
            do {
                try await follow(from: &delivered, into: continuation)
            } catch let error as KVError {
                if case .compacted = error {
                    continuation.finish(throwing: error)
                    return
                }
            } catch {
                // A broken or refused connection: reconnect below.
            }
            if delivered > before { backoff = .milliseconds(50) }
            do {
                try await Task.sleep(for: backoff)
            } catch {
                break
            }
            backoff = min(backoff * 2, Self.maximumBackoff)
        }
        continuation.finish()
    }

    /// Streams events after `delivered` until the stream ends, advancing `delivered` past each revision
    /// yielded.
    private func follow(from delivered: inout Int64, into continuation: KVWatch.Continuation) async throws {
        let range = EtcdKeyRange.prefix(prefix)
        let request = EtcdWatchRequest(
            create_request: .init(key: range.key, range_end: range.end, start_revision: EtcdInt64(delivered + 1)))
        let stream = try await client.openStream("/v3/watch", request)
        defer { stream.close() }
        var created = false
        defer {
            // A member that takes the connection but never confirms the watch (it has no leader, or is
            // going down) would be retried forever: move on to the next one.
            if !created { client.moveOn(from: stream.endpoint) }
        }
        try await withTaskCancellationHandler {
            for try await line in stream.lines {
                let message = try JSONDecoder().decode(
                    EtcdStreamMessage<EtcdWatchResponse>.self, from: Data(line.readableBytesView))
                if let status = message.error { throw KVError(status, at: "\(stream.endpoint) /v3/watch") }
                guard let response = message.result else { continue }
                if response.created == true { created = true }
                if let compacted = response.compact_revision?.value, compacted > 0 {
                    throw KVError.compacted(requested: delivered, oldest: compacted)
                }
                // Cancelled by the server for another reason (e.g. the member lost its leader): start over.
                if response.canceled == true { return }
                // A response holds whole revisions; the filter only guards against a resent one.
                let events = (response.events ?? []).map(\.event).filter { $0.revision > delivered }
                for batch in WatchHub.groupedByRevision(events) {
                    continuation.yield(batch)
                    delivered = batch[0].revision
                }
            }
        } onCancel: {
            stream.close()
        }
    }
}
