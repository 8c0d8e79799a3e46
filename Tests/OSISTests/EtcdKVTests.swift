import Foundation
import OSIS
import Testing
import TestSupport

/// The KV conformance suite against a real etcd (`scripts/services.sh start etcd`), plus what only a
/// networked store shows: failover, dropped watch streams, cancellation closing the connection.
///
/// The etcd is shared by every test, so each works under a fresh key prefix; and the suite runs its tests
/// one at a time, because the conformance checks expect the store revision to move only by their own writes.
@Suite(.serialized, .timeLimit(.minutes(3))) struct EtcdKVTests {
    static let variable = "PROVISION_TEST_ETCD_ENDPOINTS"

    /// Runs `body` with the test etcd's endpoints, or fails (CI) or skips when there is none.
    func withEndpoints(_ body: ([String]) async throws -> Void) async throws {
        try await RealServices.with(Self.variable, service: "etcd") { value in
            try await body(value.split(separator: ",").map(String.init))
        }
    }

    /// Runs `body` on a store with a fresh prefix, and removes the prefix afterwards.
    func withStore(endpoints: [String]? = nil, _ body: (EtcdKV, KVConformance) async throws -> Void) async throws {
        try await withEndpoints { real in
            let store = try EtcdKV(endpoints: endpoints ?? real)
            let conformance = KVConformance(prefix: "/provision-test/\(UUID().uuidString)", sharedRevisions: true)
            do {
                try await body(store, conformance)
            } catch {
                await Self.remove(conformance.prefix, from: store)
                throw error
            }
            await Self.remove(conformance.prefix, from: store)
        }
    }

    static func remove(_ prefix: String, from store: EtcdKV) async {
        _ = try? await store.transaction(KVTransaction(then: [.deletePrefix(prefix + "/")]))
        await store.close()
    }

    @Test func putGetDelete() async throws { try await withStore { try await $1.putGetDelete($0) } }
    @Test func rangePagesInKeyOrder() async throws { try await withStore { try await $1.rangePagesInKeyOrder($0) } }
    @Test func compareAndSet() async throws {
        try await withStore { try await $1.compareAndSetRejectsStaleRevisions($0) }
    }
    @Test func transactions() async throws { try await withStore { try await $1.transactionsAreAllOrNothing($0) } }
    @Test func putsAfterCompares() async throws {
        try await withStore { try await $1.putsAfterComparesKeepCreationRevisionAndVersion($0) }
    }
    @Test func concurrentCAS() async throws {
        try await withStore { try await $1.concurrentCASAdmitsExactlyOneWinnerPerRevision($0) }
    }
    @Test func watch() async throws {
        try await withStore { try await $1.watchReplaysThenFollowsWithoutGapsOrRepeats($0) }
    }
    @Test func watchFromTheMiddle() async throws {
        try await withStore { try await $1.watchFromTheMiddleStartsAfterThatRevision($0) }
    }
    @Test func leases() async throws { try await withStore { try await $1.leasedKeysVanishWhenTheLeaseEnds($0) } }

    @Test func backendNameAndPing() async throws {
        try await withStore { store, _ in
            #expect(store.backendName == "etcd")
            try await store.ping()
            #expect(try await store.currentRevision() > 0)
        }
    }

    @Test func putWithAnUnknownLeaseIsLeaseNotFound() async throws {
        try await withStore { store, test in
            await #expect(throws: KVError.leaseNotFound(12345)) {
                try await store.put(test.key("/lease"), Data(), lease: 12345)
            }
            await #expect(throws: KVError.leaseNotFound(12345)) { try await store.revokeLease(12345) }
            await #expect(throws: KVError.leaseNotFound(12345)) { _ = try await store.keepAlive(12345) }
        }
    }

    @Test func rejectsKeysTheSQLiteBackendRejects() async throws {
        try await withStore { store, test in
            await #expect(throws: KVError.self) { try await store.put(test.key("/ü"), Data()) }
            await #expect(throws: KVError.self) { try await store.put("", Data()) }
            let stored = try await store.get(test.key("/ü"))
            #expect(stored == nil)
        }
    }

    @Test func watchBeforeCompactionFails() async throws {
        try await withStore { store, test in
            let first = try await store.put(test.key("/k/0"), Data())
            for i in 1..<5 { try await store.put(test.key("/k/\(i)"), Data()) }
            try await store.compact(through: first + 3)
            try await store.compact(through: first + 3)  // again: no error
            var iterator = store.watch(prefix: test.key("/k/"), after: first).makeAsyncIterator()
            await #expect(throws: KVError.compacted(requested: first, oldest: first + 3)) { _ = try await iterator.next() }
        }
    }

    @Test func failsOverToTheNextEndpointWhenTheFirstIsDown() async throws {
        try await withEndpoints { real in
            let dead = "http://127.0.0.1:\(try freeTCPPort())"
            try await withStore(endpoints: [dead] + real) { store, test in
                let revision = try await store.put(test.key("/a"), Data("x".utf8))
                #expect(try await store.get(test.key("/a"))?.modRevision == revision)
                var events = store.watch(prefix: test.key("/"), after: revision - 1).makeAsyncIterator()
                #expect(try await events.next()?.map(\.keyValue.key) == [test.key("/a")])
            }
        }
    }

    @Test func noEndpointAnsweringIsUnavailableNamingThem() async throws {
        try await withEndpoints { _ in
            let dead = "http://127.0.0.1:\(try freeTCPPort())"
            let store = try EtcdKV(endpoints: [dead])
            do {
                _ = try await store.get("/x")
                Issue.record("a dead endpoint answered")
            } catch KVError.unavailable(let why) {
                #expect(why.contains(dead))
            }
            await store.close()
        }
    }

    @Test func manyConcurrentWritersShareThePool() async throws {
        try await withStore { store, test in
            let revisions = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for writer in 0..<64 {
                    group.addTask {
                        var revisions: [Int64] = []
                        for i in 0..<5 { revisions.append(try await store.put(test.key("/p/\(writer)/\(i)"), Data())) }
                        return revisions
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(Set(revisions).count == 320)
            #expect(try await store.all(prefix: test.key("/p/")).count == 320)
        }
    }
}
