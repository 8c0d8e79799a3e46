import Foundation
import OSIS
import Testing
import TestSupport

/// Watches through a `TCPProxy` in front of the test etcd, cut while they run.
extension EtcdKVTests {
    /// Runs `body` with a proxy to the first test etcd member and a store that reaches etcd through it.
    func withProxiedStore(_ body: (EtcdKV, TCPProxy, KVConformance) async throws -> Void) async throws {
        try await withStore { direct, test in
            let real = try #require(URLComponents(string: direct.endpoints[0]))
            let proxy = try await TCPProxy(to: try #require(real.host), port: try #require(real.port))
            let proxied = try EtcdKV(endpoints: ["http://127.0.0.1:\(proxy.port)"])
            do {
                try await body(proxied, proxy, test)
            } catch {
                await proxied.close()
                await proxy.stop()
                throw error
            }
            await proxied.close()
            await proxy.stop()
        }
    }

    @Test func watchResumesAfterDroppedConnectionsWithoutLossOrRepeats() async throws {
        try await withStore { store, test in
            let real = try #require(URLComponents(string: store.endpoints[0]))
            let proxy = try await TCPProxy(to: try #require(real.host), port: try #require(real.port))
            let watcher = try EtcdKV(endpoints: ["http://127.0.0.1:\(proxy.port)"])
            let base = try await store.currentRevision()
            var watch = watcher.watch(prefix: test.key("/d/"), after: base).makeAsyncIterator()
            var events: [KVEvent] = []
            // Writes go straight to etcd; only the watch's connection goes through the proxy.
            func write(_ range: Range<Int>) async throws {
                for i in range { try await store.put(test.key(String(format: "/d/%02d", i)), Data("\(i)".utf8)) }
            }
            func receive(upTo count: Int) async throws {
                while events.count < count, let batch = try await watch.next() { events += batch }
            }
            try await write(0..<20)
            try await receive(upTo: 20)
            // Cut while live; what lands before the watch reconnects must still arrive, once.
            proxy.dropConnections()
            try await write(20..<40)
            try await receive(upTo: 40)
            // Down for a while, as a restarting member: the watch retries until it is back.
            proxy.refuse(true)
            try await write(40..<50)
            try await Task.sleep(for: .milliseconds(300))
            proxy.refuse(false)
            try await write(50..<60)
            try await receive(upTo: 60)

            #expect(events.map(\.keyValue.key) == (0..<60).map { test.key(String(format: "/d/%02d", $0)) })
            let revisions = events.map(\.revision)
            #expect(revisions == revisions.sorted() && Set(revisions).count == 60)
            // The first stream, the one after the drop, and the one after the refusal.
            #expect(proxy.forwardedCount == 3)
            await watcher.close()
            await proxy.stop()
        }
    }

    @Test func cancellingTheConsumerClosesTheWatchConnection() async throws {
        try await withProxiedStore { store, proxy, test in
            let revision = try await store.put(test.key("/c/a"), Data())
            // The proxied store's pool holds the put's connection; only the watch may come and go.
            let pooled = proxy.connectionCount
            let consumer = Task {
                for try await _ in store.watch(prefix: test.key("/c/"), after: revision - 1) {}
            }
            try await waitUntil { proxy.connectionCount > pooled }
            consumer.cancel()
            _ = await consumer.result
            try await waitUntil { proxy.connectionCount == pooled }
        }
    }

    @Test func closingTheStoreEndsItsWatches() async throws {
        try await withProxiedStore { store, proxy, test in
            let watch = store.watch(prefix: test.key("/e/"), after: try await store.currentRevision())
            try await waitUntil { proxy.connectionCount > 0 }
            await store.close()
            for try await _ in watch {}
            try await waitUntil { proxy.connectionCount == 0 }
        }
    }

    /// Polls `condition` for up to 5 s.
    func waitUntil(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met in 5 s", sourceLocation: sourceLocation)
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension EtcdKVTests {
    @Test func watchMovesOnFromAMemberThatAcceptsButDoesNotServe() async throws {
        try await withStore { store, test in
            let real = try #require(URLComponents(string: store.endpoints[0]))
            let proxy = try await TCPProxy(to: try #require(real.host), port: try #require(real.port))
            proxy.refuse(true)
            let watcher = try EtcdKV(endpoints: ["http://127.0.0.1:\(proxy.port)", store.endpoints[0]])
            let revision = try await store.put(test.key("/f/a"), Data())
            var watch = watcher.watch(prefix: test.key("/f/"), after: revision - 1).makeAsyncIterator()
            #expect(try await watch.next()?.map(\.revision) == [revision])
            await watcher.close()
            await proxy.stop()
        }
    }
}
