import Foundation
import OSIS
import Testing

/// The contract every `KVStore` backend must meet. Each backend's suite calls these with a fresh store, or
/// with a fresh `prefix` on a shared one (etcd): every key a check touches starts with it.
struct KVConformance {
    var prefix = ""
    /// Whether other writers share the revision counter (etcd's is cluster-wide, and other suites write
    /// to the same etcd at the same time): then a revision is only known to grow, not by how much.
    var sharedRevisions = false

    func key(_ name: String) -> String { prefix + name }
    func bytes(_ text: String) -> Data { Data(text.utf8) }

    func putGetDelete(_ store: some KVStore) async throws {
        let start = try await store.currentRevision()
        let r1 = try await store.put(key("/t/a"), bytes("one"))
        #expect(sharedRevisions ? r1 > start : r1 == start + 1)
        let a = try #require(try await store.get(key("/t/a")))
        #expect(a.value == bytes("one"))
        #expect(a.createRevision == r1 && a.modRevision == r1 && a.version == 1)

        let r2 = try await store.put(key("/t/a"), bytes("two"))
        let a2 = try #require(try await store.get(key("/t/a")))
        #expect(a2.createRevision == r1 && a2.modRevision == r2 && a2.version == 2)

        let r3 = try await store.delete(key("/t/a"))
        #expect(sharedRevisions ? r3 > r2 : r3 == r2 + 1)
        #expect(try await store.get(key("/t/a")) == nil)
        // Deleting what is not there changes nothing, so it takes no revision.
        let r4 = try await store.delete(key("/t/a"))
        #expect(sharedRevisions ? r4 >= r3 : r4 == r3)
    }

    func rangePagesInKeyOrder(_ store: some KVStore) async throws {
        for i in (0..<25).shuffled() { try await store.put(key(String(format: "/r/k%02d", i)), bytes("\(i)")) }
        try await store.put(key("/r0"), bytes("outside"))
        try await store.put(key("/q/x"), bytes("outside"))
        var seen: [String] = []
        var after: String?
        var pages = 0
        while true {
            let page = try await store.range(prefix: key("/r/"), after: after, limit: 10)
            pages += 1
            seen += page.items.map(\.key)
            guard page.more else { break }
            after = page.items.last?.key
        }
        #expect(pages == 3)
        #expect(seen == (0..<25).map { key(String(format: "/r/k%02d", $0)) })
        let all = try await store.all(prefix: key("/r/"), pageSize: 7)
        #expect(all.count == 25)
    }

    func compareAndSetRejectsStaleRevisions(_ store: some KVStore) async throws {
        let created = try await store.compareAndSet(key("/c/x"), bytes("v1"), ifModRevision: 0)
        let r1 = try #require(created)
        #expect(try await store.compareAndSet(key("/c/x"), bytes("again"), ifModRevision: 0) == nil)
        let r2 = try #require(try await store.compareAndSet(key("/c/x"), bytes("v2"), ifModRevision: r1))
        #expect(try await store.compareAndSet(key("/c/x"), bytes("stale"), ifModRevision: r1) == nil)
        #expect(try await store.get(key("/c/x"))?.value == bytes("v2"))
        #expect(try await store.get(key("/c/x"))?.modRevision == r2)
    }

    func transactionsAreAllOrNothing(_ store: some KVStore) async throws {
        try await store.put(key("/x/guard"), bytes("g"))
        let guardRev = try #require(try await store.get(key("/x/guard"))).modRevision
        let ok = try await store.transaction(KVTransaction(
            if: [.modRevision(key("/x/guard"), equals: guardRev), .value(key("/x/guard"), equals: bytes("g"))],
            then: [
                .put(key("/x/1"), bytes("1"), lease: nil), .put(key("/x/2"), bytes("2"), lease: nil),
                .delete(key("/x/guard")),
            ],
            else: [.put(key("/x/failed"), bytes("!"), lease: nil)]))
        #expect(ok.succeeded)
        #expect(try await store.get(key("/x/1"))?.modRevision == ok.revision)
        #expect(try await store.get(key("/x/2"))?.modRevision == ok.revision)
        #expect(try await store.get(key("/x/guard")) == nil)

        let failed = try await store.transaction(KVTransaction(
            if: [.modRevision(key("/x/guard"), equals: guardRev)],
            then: [.put(key("/x/3"), bytes("3"), lease: nil)],
            else: [.put(key("/x/failed"), bytes("!"), lease: nil)]))
        #expect(!failed.succeeded)
        #expect(try await store.get(key("/x/3")) == nil)
        #expect(try await store.get(key("/x/failed")) != nil)

        let removed = try await store.transaction(KVTransaction(then: [.deletePrefix(key("/x/"))]))
        #expect(removed.succeeded)
        #expect(try await store.all(prefix: key("/x/")).isEmpty)
    }

    /// A put after a compare of the same key (what every object update is) keeps the key's creation
    /// revision and counts its version on; one after a compare of another key, or of a key that is
    /// absent, does what a plain put does.
    func putsAfterComparesKeepCreationRevisionAndVersion(_ store: some KVStore) async throws {
        let created = try await store.put(key("/p/a"), bytes("1"))
        try await store.put(key("/p/b"), bytes("1"))
        let updated = try await store.transaction(KVTransaction(
            if: [.modRevision(key("/p/a"), equals: created)], then: [.put(key("/p/a"), bytes("2"), lease: nil)]))
        #expect(updated.succeeded)
        var a = try #require(try await store.get(key("/p/a")))
        #expect(a.createRevision == created && a.modRevision == updated.revision && a.version == 2 && a.value == bytes("2"))

        let byValue = try await store.transaction(KVTransaction(
            if: [.value(key("/p/a"), equals: bytes("2"))], then: [.put(key("/p/a"), bytes("3"), lease: nil)]))
        #expect(byValue.succeeded)
        a = try #require(try await store.get(key("/p/a")))
        #expect(a.createRevision == created && a.version == 3 && a.value == bytes("3"))

        // Compared one key, wrote others: one that exists and one that does not.
        let other = try await store.transaction(KVTransaction(
            if: [.modRevision(key("/p/a"), equals: byValue.revision)],
            then: [.put(key("/p/b"), bytes("2"), lease: nil), .put(key("/p/c"), bytes("1"), lease: nil)]))
        #expect(other.succeeded)
        let b = try #require(try await store.get(key("/p/b")))
        #expect(b.version == 2 && b.createRevision < other.revision && b.value == bytes("2"))
        let c = try #require(try await store.get(key("/p/c")))
        #expect(c.version == 1 && c.createRevision == other.revision)

        // Compared as absent, then created.
        let absent = try await store.transaction(KVTransaction(
            if: [.modRevision(key("/p/d"), equals: 0)], then: [.put(key("/p/d"), bytes("1"), lease: nil)]))
        #expect(absent.succeeded)
        let d = try #require(try await store.get(key("/p/d")))
        #expect(d.version == 1 && d.createRevision == absent.revision && d.modRevision == absent.revision)

        // Deleted and created again: a new creation revision, counted from 1.
        try await store.delete(key("/p/d"))
        let again = try await store.transaction(KVTransaction(
            if: [.modRevision(key("/p/d"), equals: 0)], then: [.put(key("/p/d"), bytes("2"), lease: nil)]))
        let d2 = try #require(try await store.get(key("/p/d")))
        #expect(d2.version == 1 && d2.createRevision == again.revision)
    }

    func concurrentCASAdmitsExactlyOneWinnerPerRevision(_ store: some KVStore) async throws {
        try await store.put(key("/n/counter"), bytes("0"))
        // 16 writers each add 1 to the counter 10 times through read-CAS-retry; none may be lost.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    for _ in 0..<10 {
                        while true {
                            let current = try #require(try await store.get(key("/n/counter")))
                            let next = Int(String(decoding: current.value, as: UTF8.self))! + 1
                            let written = try await store.compareAndSet(
                                key("/n/counter"), bytes("\(next)"), ifModRevision: current.modRevision)
                            if written != nil { break }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.get(key("/n/counter"))?.value == bytes("160"))
    }

    func watchReplaysThenFollowsWithoutGapsOrRepeats(_ store: some KVStore) async throws {
        let base = try await store.currentRevision()
        for i in 0..<5 { try await store.put(key("/w/\(i)"), bytes("\(i)")) }
        try await store.put(key("/other"), bytes("ignored"))
        let watch = store.watch(prefix: key("/w/"), after: base)
        let writer = Task {
            for i in 5..<50 { try await store.put(key("/w/\(i)"), bytes("\(i)")) }
            try await store.delete(key("/w/0"))
        }
        var events: [KVEvent] = []
        for try await batch in watch {
            events += batch
            if events.count >= 51 { break }
        }
        try await writer.value
        #expect(events.count == 51)
        #expect(events.prefix(50).map(\.keyValue.key) == (0..<50).map { key("/w/\($0)") })
        #expect(events.last?.kind == .delete && events.last?.keyValue.key == key("/w/0"))
        let revisions = events.map(\.revision)
        #expect(revisions == revisions.sorted() && Set(revisions).count == revisions.count)
    }

    func watchFromTheMiddleStartsAfterThatRevision(_ store: some KVStore) async throws {
        let r1 = try await store.put(key("/m/a"), bytes("1"))
        let r2 = try await store.put(key("/m/b"), bytes("2"))
        var iterator = store.watch(prefix: key("/m/"), after: r1).makeAsyncIterator()
        let first = try #require(try await iterator.next())
        #expect(first.map(\.revision) == [r2])
    }

    /// The lease times are generous and the expiry is awaited, not timed: the whole suite runs at once on
    /// two cores, and a fixed sleep once saw a 1 s lease end before the first read.
    func leasedKeysVanishWhenTheLeaseEnds(_ store: some KVStore) async throws {
        let short = try await store.grantLease(ttl: .seconds(3))
        let kept = try await store.grantLease(ttl: .seconds(3))
        try await store.put(key("/l/short"), bytes("s"), lease: short.id)
        try await store.put(key("/l/kept"), bytes("k"), lease: kept.id)
        _ = try await store.keepAlive(short.id)
        #expect(try await store.get(key("/l/short"))?.lease == short.id)
        let deadline = ContinuousClock.now + .seconds(30)
        while try await store.get(key("/l/short")) != nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            _ = try await store.keepAlive(kept.id)
        }
        #expect(try await store.get(key("/l/short")) == nil)
        #expect(try await store.get(key("/l/kept")) != nil)
        try await store.revokeLease(kept.id)
        #expect(try await store.get(key("/l/kept")) == nil)
        await #expect(throws: KVError.self) { try await store.keepAlive(short.id) }
        await #expect(throws: KVError.self) { try await store.put(key("/l/none"), bytes("x"), lease: 12345) }
    }
}
