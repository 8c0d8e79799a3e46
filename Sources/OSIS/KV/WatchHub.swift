import Synchronization

/// Fans committed changes out to in-process watchers, and joins each watcher's replay of history to the
/// live changes without a gap or a duplicate.
///
/// A watcher registers before it reads history, so every change committed after its history snapshot
/// reaches it live; live changes at or below the last replayed revision are dropped as already seen.
final class WatchHub: Sendable {
    private struct Watcher {
        var prefix: String
        var continuation: KVWatch.Continuation
        /// nil while history is replayed: live changes are buffered until then.
        var deliveredThrough: Int64?
        var buffered: [[KVEvent]] = []
    }

    private let watchers = Mutex<[UInt64: Watcher]>([:])
    /// Watches whose consumer went away, dropped from `watchers` at the next delivery rather than at
    /// once: a stream's termination handler runs while the Swift runtime holds its consumer task's
    /// status lock, and a delivery holding `watchers` may be resuming that very task, which needs that
    /// lock. Taking `watchers` in the handler deadlocked the two (the writer's fsync queue stopped, and
    /// every later write on the store with it).
    private let ended = Mutex<[UInt64]>([])
    private let nextID = Atomic<UInt64>(0)

    /// Starts a watch: registers it, then calls `replay` for history after `revision` (which returns
    /// the events and the revision its snapshot was at), then goes live.
    func watch(
        prefix: String, after revision: Int64,
        replay: @escaping @Sendable () async throws -> (events: [KVEvent], through: Int64)
    ) -> KVWatch {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = KVWatch.makeStream(bufferingPolicy: .unbounded)
        watchers.withLock { $0[id] = Watcher(prefix: prefix, continuation: continuation) }
        let task = Task {
            do {
                let history = try await replay()
                let matching = history.events.filter { $0.keyValue.key.hasPrefix(prefix) }
                for group in Self.groupedByRevision(matching) { continuation.yield(group) }
                let through = max(history.through, revision)
                watchers.withLock { all in
                    dropEnded(from: &all)
                    guard var watcher = all[id] else { return }
                    for group in watcher.buffered {
                        let fresh = group.filter { $0.revision > through }
                        if !fresh.isEmpty { continuation.yield(fresh) }
                    }
                    watcher.buffered = []
                    watcher.deliveredThrough = through
                    all[id] = watcher
                }
            } catch {
                continuation.finish(throwing: error)
                _ = watchers.withLock { $0.removeValue(forKey: id) }
            }
        }
        continuation.onTermination = { [weak self] _ in
            task.cancel()
            self?.ended.withLock { $0.append(id) }
        }
        return stream
    }

    /// Delivers one committed batch (ascending revisions) to every watcher whose prefix matches.
    func publish(_ events: [KVEvent]) {
        watchers.withLock { all in
            dropEnded(from: &all)
            // The syncer publishes before it acknowledges: with nobody watching, it should not wait on this.
            guard !all.isEmpty else { return }
            let groups = Self.groupedByRevision(events)
            for (id, var watcher) in all {
                for group in groups {
                    let matching = group.filter { $0.keyValue.key.hasPrefix(watcher.prefix) }
                    guard !matching.isEmpty else { continue }
                    if let through = watcher.deliveredThrough {
                        if matching[0].revision > through { watcher.continuation.yield(matching) }
                    } else {
                        watcher.buffered.append(matching)
                    }
                }
                all[id] = watcher
            }
        }
    }

    private func dropEnded(from all: inout [UInt64: Watcher]) {
        for id in ended.withLock({ ended in defer { ended = [] }; return ended }) { all[id] = nil }
    }

    /// Ends every watch, e.g. when the store closes.
    func finishAll(throwing error: (any Error)? = nil) {
        let all = watchers.withLock { all in
            defer { all = [:] }
            return all
        }
        for watcher in all.values { watcher.continuation.finish(throwing: error) }
    }

    static func groupedByRevision(_ events: [KVEvent]) -> [[KVEvent]] {
        var groups: [[KVEvent]] = []
        for event in events {
            if let last = groups.last?.last, last.revision == event.revision {
                groups[groups.count - 1].append(event)
            } else {
                groups.append([event])
            }
        }
        return groups
    }
}
