import Dispatch
import Foundation
import Synchronization
import Testing
import TestSupport

@testable import OSIS

@Suite(.timeLimit(.minutes(2))) struct WatchHubTests {
    static func put(_ key: String, _ revision: Int64) -> KVEvent {
        KVEvent(kind: .put, keyValue: KeyValue(key: key, value: Data("v".utf8), createRevision: revision, modRevision: revision, version: 1))
    }

    /// Watchers cancelled while changes are being delivered to them. A stream's termination handler
    /// runs under its consumer task's status lock, and a delivery resuming that task needs the lock:
    /// when the handler also took the hub's lock, which the delivery holds, the two deadlocked (the
    /// store's fsync queue stopped, and every later write with it; seen in CI).
    @Test func watchersCancelledDuringDeliveryNeverStopIt() async throws {
        let hub = WatchHub()
        let published = Atomic<Int64>(0)
        let running = Atomic<Bool>(true)
        let publisher = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var revision: Int64 = 0
            while running.load(ordering: .relaxed) {
                revision += 1
                hub.publish([Self.put("/k", revision)])
                published.store(revision, ordering: .relaxed)
            }
            publisher.signal()
        }
        for _ in 0..<2_000 {
            let stream = hub.watch(prefix: "/k", after: 0) { ([], 0) }
            let consumer = Task {
                for try await _ in stream {}
            }
            // Live: the next change will reach it; cancel it while changes stream in.
            let before = published.load(ordering: .relaxed)
            while published.load(ordering: .relaxed) < before + 2 { await Task.yield() }
            consumer.cancel()
            _ = await consumer.result
        }
        // Delivery still moves: a deadlocked publisher would stop the count.
        let seen = published.load(ordering: .relaxed)
        try await eventually { published.load(ordering: .relaxed) > seen }
        running.store(false, ordering: .relaxed)
        #expect(publisher.wait(timeout: .now() + 10) == .success)
    }
}
