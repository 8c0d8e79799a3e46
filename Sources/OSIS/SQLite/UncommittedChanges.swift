import Synchronization

/// The changes the writer has applied inside its open SQLite transaction but not yet committed to the
/// tables. Readers use connections of their own, which see only committed state, so they consult these
/// first.
///
/// Why the writer keeps a transaction open: each group commit is durable through its op log record
/// already, so SQLite's commit is only about making the changes visible. Committing ("folding") every
/// few dozen group commits writes a B-tree page that many of them dirtied to the WAL once, not once per
/// group commit. See docs/PERFORMANCE.md (OSIS, fifth round).
///
/// Why a read stays consistent: a reader takes its snapshot here before its SQLite read starts, and the
/// writer clears these changes only after the fold's COMMIT. A fold commits everything applied so far,
/// so the tables the reader then sees are either at the revision before the first change here (nothing
/// folded since: every change here is newer) or at this snapshot's last revision or later (the tables
/// hold every change here). `Snapshot` decides which by the tables' revision, read in the same SQLite
/// transaction.
final class UncommittedChanges: Sendable {
    private struct State {
        /// Each changed key's latest change.
        var latest: [String: KVEvent] = [:]
        /// Every change, in revision order, for watchers that replay history.
        var events: [KVEvent] = []
        /// The latest compaction point applied: history at or below it is gone for new watchers.
        var compacted: Int64 = 0
    }

    private let state = Mutex(State())

    /// Records a group commit's changes (ascending revisions) once it is applied. Called by the writer.
    func add(_ events: [KVEvent]) {
        guard !events.isEmpty else { return }
        state.withLock { state in
            for event in events { state.latest[event.keyValue.key] = event }
            state.events.append(contentsOf: events)
        }
    }

    /// Records a compaction once it is applied. Called by the writer.
    func compacted(through revision: Int64) {
        state.withLock { $0.compacted = max($0.compacted, revision) }
    }

    /// Forgets every change, once a fold has committed them. Called by the writer.
    func clear() {
        state.withLock { state in
            state.latest.removeAll(keepingCapacity: true)
            state.events.removeAll(keepingCapacity: true)
            state.compacted = 0
        }
    }

    /// The key's latest uncommitted change, if it has one: that is its current state.
    func latest(_ key: String) -> KVEvent? {
        state.withLock { $0.latest[key] }
    }

    /// The latest change of each key in `prefix` after `after`, in key order, with the revision of the
    /// last change overall.
    func snapshot(prefix: String, after: String?) -> Snapshot {
        state.withLock { state in
            guard let revision = state.events.last?.revision else { return Snapshot() }
            var changes = state.latest.values.filter { event in
                let key = event.keyValue.key
                return key.hasPrefix(prefix) && (after.map { key > $0 } ?? true)
            }
            changes.sort { $0.keyValue.key < $1.keyValue.key }
            return Snapshot(changes: changes, revision: revision)
        }
    }

    /// Every change after `revision`, in revision order, with the revision of the last change overall
    /// and the compaction point.
    func snapshot(after revision: Int64) -> Snapshot {
        state.withLock { state in
            guard let last = state.events.last?.revision else { return Snapshot(compacted: state.compacted) }
            let start = state.events.firstIndex { $0.revision > revision } ?? state.events.endIndex
            return Snapshot(changes: Array(state.events[start...]), revision: last, compacted: state.compacted)
        }
    }

    /// What a reader saw here before its SQLite read, and how the two combine.
    struct Snapshot: Sendable {
        var changes: [KVEvent] = []
        /// The last uncommitted revision; 0 when nothing was uncommitted.
        var revision: Int64 = 0
        /// An uncommitted compaction point (for watch snapshots); 0 when none.
        var compacted: Int64 = 0

        /// How many of the changes are deletions: a page read from the tables must fetch that many more
        /// rows, as each may remove one.
        var deletions: Int { changes.count { $0.kind == .delete } }

        /// Whether the tables, read at `tablesRevision`, lack these changes.
        func isNewer(than tablesRevision: Int64) -> Bool { !changes.isEmpty && revision > tablesRevision }

        /// A page of the range: `rows` are the tables' rows in key order, fetched with `deletions` extra
        /// rows beyond `limit + 1`; `exhausted` when the tables had no more.
        func page(rows: [KeyValue], exhausted: Bool, tablesRevision: Int64, limit: Int) -> KVPage {
            var items = rows
            var revision = tablesRevision
            if isNewer(than: tablesRevision) {
                let changed = Set(changes.lazy.map(\.keyValue.key))
                items.removeAll { changed.contains($0.key) }
                // Past the last row fetched the tables may hold keys this page has not seen, so changes
                // beyond it wait for the next page.
                let boundary = exhausted ? nil : rows.last?.key
                for change in changes where change.kind == .put {
                    if let boundary, change.keyValue.key > boundary { break }
                    items.append(change.keyValue)
                }
                items.sort { $0.key < $1.key }
                revision = self.revision
            }
            let more = items.count > limit
            return KVPage(items: Array(items.prefix(limit)), more: more, revision: revision)
        }

        /// The history a watcher replays: the tables' logged events after its revision, then these.
        func history(logged: [KVEvent], tablesRevision: Int64) -> (events: [KVEvent], through: Int64) {
            guard isNewer(than: tablesRevision) else { return (logged, tablesRevision) }
            return (logged + changes, revision)
        }
    }
}
