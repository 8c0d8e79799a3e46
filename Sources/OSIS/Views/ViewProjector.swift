import Foundation
import Synchronization

/// Keeps the SQL views in step with the KV store: follows a watch of every object and applies each
/// change, batching whatever has arrived into one SQL transaction.
///
/// It resumes from the revision the views last recorded, so after a crash it replays only what is
/// missing (and replay is harmless anyway: rows only move to higher revisions). If the store compacted
/// that history away, it rebuilds the views from scratch.
public struct ViewProjector: Sendable {
    public let kv: any KVStore
    public let views: any ViewStore
    public let definitions: [String: ViewDefinition]

    public init(kv: any KVStore, views: any ViewStore, definitions: [ViewDefinition]) {
        self.kv = kv
        self.views = views
        self.definitions = Dictionary(definitions.map { ($0.kind, $0) }, uniquingKeysWith: { $1 })
    }

    /// Creates missing view tables.
    public func prepare() async throws {
        try await views.prepare(Array(definitions.values))
    }

    /// Follows the store until cancelled.
    public func run() async throws {
        while !Task.isCancelled {
            let from = try await views.appliedRevision()
            do {
                try await follow(from: from)
                return
            } catch KVError.compacted {
                _ = try await reindex()
            }
        }
    }

    /// Rebuilds every view from the KV store; returns the revision the views then reflect.
    @discardableResult
    public func reindex() async throws -> Int64 {
        try await views.reset(Array(definitions.values))
        // Rows read after `start` may already be newer than it; that is fine, since the follower
        // re-applies from `start` and rows never move backwards.
        let start = try await kv.currentRevision()
        var after: String?
        while true {
            let page = try await kv.range(prefix: ObjectStore.prefix, after: after, limit: 500)
            let changes = page.items.compactMap { Self.change(for: KVEvent(kind: .put, keyValue: $0), definitions: definitions) }
            try await views.apply(changes, through: start, definitions: definitions)
            guard page.more, let last = page.items.last else { break }
            after = last.key
        }
        return start
    }

    /// Applies changes after `revision` until the watch ends or the task is cancelled.
    func follow(from revision: Int64) async throws {
        let inbox = Inbox()
        let watch = kv.watch(prefix: ObjectStore.prefix, after: revision)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { inbox.finish() }
                for try await batch in watch { inbox.add(batch) }
            }
            group.addTask {
                while let events = await inbox.take() {
                    let started = ContinuousClock.now
                    let changes = events.compactMap { Self.change(for: $0, definitions: definitions) }
                    try await views.apply(changes, through: events.last!.revision, definitions: definitions)
                    // Under steady writes, one transaction every few milliseconds carries more changes
                    // than one per commit would, and each costs the embedded store a fold (see
                    // SQLiteViewStore); a quiet store's next change is applied as soon as it comes.
                    try await Task.sleep(until: started + Self.applyInterval)
                }
            }
            try await group.waitForAll()
        }
    }

    /// How often, at most, the follower applies a batch of changes.
    static let applyInterval = Duration.milliseconds(10)

    static func change(for event: KVEvent, definitions: [String: ViewDefinition]) -> ViewChange? {
        guard let (kind, id) = ObjectStore.parse(key: event.keyValue.key), let definition = definitions[kind] else { return nil }
        switch event.kind {
        case .delete:
            return .delete(kind: kind, id: id, revision: event.revision)
        case .put:
            guard let body = ObjectEnvelope.split(event.keyValue.value)?.body,
                let fields = JSONFieldScanner.fields(definition.columns.lazy.map(\.field), of: body)
            else { return nil }
            let columns = zip(definition.columns, fields).map { column, field in column.value(from: field) }
            return .upsert(kind: kind, id: id, revision: event.revision, columns: columns, json: String(decoding: body, as: UTF8.self))
        }
    }
}

/// Events waiting to be applied; the applier takes everything that has arrived at once.
private final class Inbox: Sendable {
    private struct State {
        var events: [KVEvent] = []
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func add(_ batch: [KVEvent]) {
        let waiter = state.withLock { state in
            state.events += batch
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Everything queued, waiting if nothing is; nil once finished and drained.
    func take() async -> [KVEvent]? {
        while true {
            let taken: [KVEvent]? = state.withLock { state in
                if !state.events.isEmpty {
                    defer { state.events = [] }
                    return state.events
                }
                return state.finished ? [] : nil
            }
            if let taken { return taken.isEmpty ? nil : taken }
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    if !state.events.isEmpty || state.finished { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }
}
