import Foundation
import Synchronization
import Testing
import TestSupport

@testable import OSIS

/// The embedded store's writer keeps SQLite's transaction open across group commits: what readers see
/// meanwhile, what a SQLite error in the middle costs, and how files from before `kv_history` open.
@Suite(.timeLimit(.minutes(3))) struct SQLiteKVFoldTests {
    static func pair(_ writer: Int, _ round: Int) -> (a: String, b: String) {
        ("/pair/\(writer)/\(round)/a", "/pair/\(writer)/\(round)/b")
    }

    /// 48 writers each replace a pair of keys in one transaction per round while readers look at every
    /// pair at once and a watch joins halfway. Every read must see whole transactions (each writer's pair
    /// complete, of one revision) and each writer's own last write; the watch every revision once. Fewer
    /// folds than group commits show that the transaction stayed open across some of them meanwhile.
    @Test func readersSeeWholeTransactionsWhileTheTransactionIsOpen() async throws {
        // On tmpfs: with a slow fsync the writer idles while both waves of writers wait for one, and folds.
        let directory = try TemporaryDirectory("sqlitekv", under: TemporaryDirectory.memory)
        defer { directory.remove() }
        let store = try SQLiteKV(path: directory.file("kv.sqlite"))
        let writers = 48, rounds = 60
        let total = Int64(writers * rounds)
        let halfway = Shared(Int64(0))
        let reading = Shared(true)

        let watched = Task {
            while halfway.value == 0 { try await Task.sleep(for: .milliseconds(1)) }
            let start = halfway.value
            var revisions: [Int64] = []
            for try await events in store.watch(prefix: "/pair/", after: start) {
                revisions.append(events[0].revision)
                #expect(events.allSatisfy { $0.revision == events[0].revision })
                if revisions.last == total { break }
            }
            return (start, revisions)
        }
        let reader = Task {
            var reads = 0
            while reading.value {
                let page = try await store.range(prefix: "/pair/", after: nil, limit: 10_000)
                let byWriter = Dictionary(grouping: page.items) { $0.key.split(separator: "/")[1] }
                for (writer, items) in byWriter {
                    #expect(items.count == 2, "writer \(writer): \(items.map(\.key))")
                    #expect(Set(items.map(\.modRevision)).count == 1 && items.allSatisfy { $0.modRevision <= page.revision })
                }
                reads += 1
            }
            return reads
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for round in 0..<rounds {
                        let (a, b) = Self.pair(writer, round)
                        var operations: [KVOperation] = [.put(a, Data("\(round)".utf8), lease: nil), .put(b, Data("\(round)".utf8), lease: nil)]
                        if round > 0 {
                            let previous = Self.pair(writer, round - 1)
                            operations += [.delete(previous.a), .delete(previous.b)]
                        }
                        let result = try await store.transaction(KVTransaction(then: operations))
                        #expect(try await store.get(a)?.modRevision == result.revision)
                        if writer == 0 && round == rounds / 2 { halfway.value = result.revision }
                    }
                }
            }
            try await group.waitForAll()
        }
        reading.value = false
        let reads = try await reader.value
        #expect(try await store.currentRevision() == total)
        // A bound only so that a missed revision fails instead of hanging.
        let bound = Task {
            try await Task.sleep(for: .seconds(20))
            watched.cancel()
        }
        let (start, revisions) = try await watched.value
        bound.cancel()
        #expect(revisions == Array(start + 1...total))
        let commits = store.groupCommits.commits
        #expect(reads > 0)
        // The point of the test: transactions really spanned group commits while the readers read.
        #expect(store.folds < commits, "\(store.folds) folds for \(commits) group commits")
        await store.close()
    }

    /// A SQLite error halfway through a group commit (here a trigger refusing one key) fails that group
    /// commit's writes; the group commits before it in the open transaction are rolled back with it and
    /// replayed from the op log, so every acknowledged write is there, before and after reopening.
    @Test func aSQLiteErrorInAGroupCommitLosesNothingAcknowledged() async throws {
        let directory = try TemporaryDirectory("sqlitekv")
        defer { directory.remove() }
        let path = directory.file("kv.sqlite")
        let store = try SQLiteKV(path: path)
        _ = try await store.put("/warm", Data())
        let other = try SQLiteConnection(path: path)
        try other.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON kv WHEN NEW.key = '/poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END")

        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for writer in 0..<32 {
                group.addTask {
                    var mine: [String] = []
                    for round in 0..<40 {
                        let key = writer == 0 && round % 10 == 5 ? "/poison" : "/keep/\(writer)/\(round)"
                        do {
                            _ = try await store.put(key, Data(key.utf8))
                            mine.append(key)
                        } catch {
                            #expect(error is KVError)
                        }
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(!acknowledged.contains("/poison"))
        #expect(acknowledged.count >= 32 * 40 - 4 * 32, "whole group commits fail, not more")
        for key in acknowledged { #expect(try await store.get(key)?.value == Data(key.utf8), "\(key)") }
        #expect(try await store.put("/after", Data()) > 0)
        await store.close()

        let reopened = try SQLiteKV(path: path)
        let kept = try await reopened.range(prefix: "/keep/", after: nil, limit: 10_000).items.map(\.key)
        #expect(Set(kept) == Set(acknowledged))
        await reopened.close()
    }

    /// Stores before `kv_history` logged one `kv_log` row per change: opening such a file moves them over,
    /// so watches still replay from the beginning.
    @Test func aFileWithThePerChangeLogIsMigrated() async throws {
        let directory = try TemporaryDirectory("sqlitekv")
        defer { directory.remove() }
        let path = directory.file("kv.sqlite")
        let old = try SQLiteConnection(path: path)
        try old.execute(
            """
            PRAGMA journal_mode = WAL;
            CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, create_rev INTEGER NOT NULL,
                mod_rev INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER) WITHOUT ROWID;
            CREATE TABLE kv_log (rev INTEGER NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL,
                deleted INTEGER NOT NULL, value BLOB NOT NULL, create_rev INTEGER NOT NULL, version INTEGER NOT NULL,
                lease INTEGER, PRIMARY KEY (rev, seq)) WITHOUT ROWID;
            CREATE TABLE kv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE kv_lease (id INTEGER PRIMARY KEY, ttl_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL);
            INSERT INTO kv VALUES ('/m/b', x'62', 2, 2, 1, NULL);
            INSERT INTO kv_log VALUES (1, 1, '/m/a', 0, x'61', 1, 1, NULL), (2, 1, '/m/b', 0, x'62', 2, 1, NULL),
                (3, 1, '/m/a', 1, x'', 0, 0, NULL), (3, 2, '/m/c', 0, x'63', 3, 1, NULL);
            INSERT INTO kv VALUES ('/m/c', x'63', 3, 3, 1, NULL);
            INSERT INTO kv_meta VALUES ('revision', 3), ('compacted', 0), ('batch', 0);
            """)
        let store = try SQLiteKV(path: path)
        var iterator = store.watch(prefix: "/m/", after: 0).makeAsyncIterator()
        var events: [KVEvent] = []
        while events.count < 4, let group = try await iterator.next() { events += group }
        #expect(events.map(\.keyValue.key) == ["/m/a", "/m/b", "/m/a", "/m/c"])
        #expect(events.map(\.revision) == [1, 2, 3, 3])
        #expect(events.map(\.kind) == [.put, .put, .delete, .put])
        #expect(events[1].keyValue.value == Data("b".utf8))
        #expect(try old.rows("SELECT name FROM sqlite_master WHERE name = 'kv_log'") { $0.text(0) }.isEmpty)
        #expect(try await store.put("/m/d", Data()) == 4)
        await store.close()
    }
}

/// A value tasks share.
private final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
