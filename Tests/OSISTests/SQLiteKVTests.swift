import Foundation
import OSIS
import Testing
import TestSupport

/// The KV conformance suite against the embedded SQLite backend, plus what only it can show: reopening.
@Suite(.timeLimit(.minutes(3))) struct SQLiteKVTests {
    func withStore(_ body: (SQLiteKV) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("sqlitekv")
        defer { directory.remove() }
        let store = try SQLiteKV(path: directory.file("kv.sqlite"))
        try await body(store)
        await store.close()
    }

    @Test func putGetDelete() async throws { try await withStore(KVConformance().putGetDelete) }
    @Test func rangePagesInKeyOrder() async throws { try await withStore(KVConformance().rangePagesInKeyOrder) }
    @Test func compareAndSet() async throws { try await withStore(KVConformance().compareAndSetRejectsStaleRevisions) }
    @Test func transactions() async throws { try await withStore(KVConformance().transactionsAreAllOrNothing) }
    @Test func putsAfterCompares() async throws { try await withStore(KVConformance().putsAfterComparesKeepCreationRevisionAndVersion) }
    @Test func concurrentCAS() async throws { try await withStore(KVConformance().concurrentCASAdmitsExactlyOneWinnerPerRevision) }
    @Test func watch() async throws { try await withStore(KVConformance().watchReplaysThenFollowsWithoutGapsOrRepeats) }
    @Test func watchFromTheMiddle() async throws { try await withStore(KVConformance().watchFromTheMiddleStartsAfterThatRevision) }
    @Test func leases() async throws { try await withStore(KVConformance().leasedKeysVanishWhenTheLeaseEnds) }

    /// What etcd refuses (one key written twice in a transaction) this store applies in order: each write
    /// builds on the one before, not on what the compare read.
    @Test func writesToTheComparedKeyBuildOnEachOther() async throws {
        try await withStore { store in
            let created = try await store.put("/w/a", Data("1".utf8))
            let recreated = try await store.transaction(KVTransaction(
                if: [.modRevision("/w/a", equals: created)],
                then: [.delete("/w/a"), .put("/w/a", Data("2".utf8), lease: nil)]))
            let a = try #require(try await store.get("/w/a"))
            #expect(a.createRevision == recreated.revision && a.version == 1 && a.value == Data("2".utf8))

            let twice = try await store.transaction(KVTransaction(
                if: [.modRevision("/w/a", equals: recreated.revision)],
                then: [.put("/w/a", Data("3".utf8), lease: nil), .put("/w/a", Data("4".utf8), lease: nil)]))
            let a2 = try #require(try await store.get("/w/a"))
            #expect(a2.createRevision == recreated.revision && a2.version == 3 && a2.modRevision == twice.revision)
            #expect(a2.value == Data("4".utf8))
        }
    }

    @Test func stateAndRevisionSurviveReopening() async throws {
        let directory = try TemporaryDirectory("sqlitekv")
        defer { directory.remove() }
        let path = directory.file("kv.sqlite")
        var store = try SQLiteKV(path: path)
        let revision = try await store.put("/p/a", Data("kept".utf8))
        await store.close()
        store = try SQLiteKV(path: path)
        #expect(try await store.currentRevision() == revision)
        #expect(try await store.get("/p/a")?.value == Data("kept".utf8))
        #expect(try await store.put("/p/b", Data()) == revision + 1)
        await store.close()
    }

    /// Two stores on one file, as `provision dns import` beside a running appliance: revisions stay one
    /// sequence across both, and each one's watchers see the other's writes, in order, within a second.
    /// (A reader sees the other store's writes once that store has folded them.)
    @Test func twoStoresOnOneFileShareOneRevisionSequence() async throws {
        let directory = try TemporaryDirectory("sqlitekv")
        defer { directory.remove() }
        let path = directory.file("kv.sqlite")
        let appliance = try SQLiteKV(path: path)
        let start = try await appliance.put("/p/first", Data("a".utf8))
        let changes = appliance.watch(prefix: "/p/", after: start)
        let firstChange = Task {
            var iterator = changes.makeAsyncIterator()
            return try await iterator.next()
        }
        // A bound only so that a missed change fails instead of hanging: cancelled, the watch ends with nil.
        let bound = Task {
            try await Task.sleep(for: .seconds(10))
            firstChange.cancel()
        }

        let command = try SQLiteKV(path: path)
        let imported = try await command.put("/p/imported", Data("b".utf8))
        #expect(imported == start + 1)
        let seen = try await firstChange.value
        bound.cancel()
        #expect(seen?.map(\.keyValue.key) == ["/p/imported"] && seen?.first?.revision == imported)

        // The appliance's next write comes after the other's, and the other's after that: no revision twice.
        let next = try await appliance.put("/p/second", Data("c".utf8))
        #expect(next == imported + 1)
        #expect(try await command.put("/p/third", Data("d".utf8)) == next + 1)
        // A store's writes reach the file's other readers when its writer folds them, 2 ms after it
        // goes idle (or as it closes): not necessarily before it acknowledges them.
        try await eventually(within: .seconds(2)) { try await appliance.get("/p/third") != nil }
        #expect(try await appliance.get("/p/third")?.modRevision == next + 1)
        let revisions = try await appliance.range(prefix: "/p/", after: nil, limit: 10).items.map(\.modRevision).sorted()
        #expect(revisions == [start, imported, next, next + 1])
        await command.close()
        await appliance.close()
    }

    @Test func watchBeforeCompactionFails() async throws {
        try await withStore { store in
            for i in 0..<5 { try await store.put("/k/\(i)", Data()) }
            try await store.compact(through: 3)
            var iterator = store.watch(prefix: "/k/", after: 1).makeAsyncIterator()
            await #expect(throws: KVError.compacted(requested: 1, oldest: 3)) { _ = try await iterator.next() }
        }
    }

    @Test func rejectsNonASCIIKeysWithoutHarmingTheBatch() async throws {
        try await withStore { store in
            // Submitted together, so both land in one group commit; the bad one must fail alone.
            let bad = Task { try await store.put("/bad/ü", Data()) }
            let good = Task { try await store.put("/good", Data()) }
            await #expect(throws: KVError.self) { _ = try await bad.value }
            _ = try await good.value
            #expect(try await store.get("/good") != nil)
        }
    }

    @Test func aRefusedTransactionChangesNothingAndLeavesItsBatchWhole() async throws {
        try await withStore { store in
            // Each refused transaction's first operation is valid: it must not land, and it must not take
            // a revision, while the good writes committed in the same batches all land.
            let before = try await store.range(prefix: "/", after: nil, limit: 1).revision
            let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for i in 0..<40 {
                    group.addTask {
                        let second: KVOperation = i % 2 == 0 ? .put("/refused/ü\(i)", Data(), lease: nil) : .put("/refused/lease\(i)", Data(), lease: 42)
                        let transaction = i % 4 < 2
                            ? KVTransaction(then: [.put("/refused/first\(i)", Data("x".utf8), lease: nil), second])
                            : KVTransaction(then: [.put("/good/\(i)", Data("y".utf8), lease: nil)])
                        do {
                            _ = try await store.transaction(transaction)
                            return (i, true)
                        } catch {
                            return (i, false)
                        }
                    }
                }
                return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            for (i, succeeded) in results { #expect(succeeded == (i % 4 >= 2), "transaction \(i)") }
            #expect(try await store.range(prefix: "/refused/", after: nil, limit: 100).items.isEmpty)
            let good = try await store.range(prefix: "/good/", after: nil, limit: 100)
            #expect(good.items.count == 20)
            #expect(good.revision == before + 20)
        }
    }
}
