import Foundation
import Synchronization
import Testing

@testable import OSIS

/// Where the syncer waits for fsyncs: on a pool thread while they are fast, on its own thread once one
/// is slow, and back when they are fast again.
@Suite(.timeLimit(.minutes(1))) struct OpLogSyncerTests {
    /// A stand-in fsync whose speed the test sets: the syncer's placement is all that is under test here.
    final class Disk: Sendable {
        let slow = Atomic<Bool>(false)
        let syncs = Atomic<Int>(0)
        /// Set while the test holds the fsync under way, so that it can queue a commit behind it.
        let held = Mutex<DispatchSemaphore?>(nil)

        func sync() {
            syncs.add(1, ordering: .relaxed)
            held.withLock { $0 }?.wait()
            if slow.load(ordering: .relaxed) { usleep(60_000) }
        }
    }

    final class Published: Sendable {
        let revisions = Mutex<[Int64]>([])
    }

    final class Counter: Sendable {
        let value = Atomic<Int64>(0)
    }

    static let slowSync = Duration.milliseconds(50)

    static func makeSyncer(_ disk: Disk) -> OpLogSyncer {
        OpLogSyncer(sync: { disk.sync() }, published: { _ in }, slowSync: slowSync)
    }

    /// Enqueues one commit with one writer waiting on it, counts it in `enqueued`, and waits for its
    /// acknowledgement.
    static func commit(_ syncer: OpLogSyncer, events: [KVEvent] = [], enqueued: Counter? = nil) async throws {
        let result = try await withCheckedThrowingContinuation { continuation in
            syncer.enqueue(.init(events: events, acknowledgements: [(continuation, .success(.done))], needsSync: true))
            enqueued?.value.add(1, ordering: .relaxed)
        }
        guard case .done = result else { Issue.record("unexpected acknowledgement \(result)"); return }
    }

    @Test func aSlowFsyncMovesTheNextWaitsToTheSyncersOwnThreadUntilOneIsFastAgain() async throws {
        let disk = Disk()
        let syncer = Self.makeSyncer(disk)
        try await Self.commit(syncer)
        #expect(syncer.drains == .init(ownThread: 0, pool: 1))

        disk.slow.store(true, ordering: .relaxed)
        try await Self.commit(syncer)  // placed before anyone knew it would be slow
        #expect(syncer.drains == .init(ownThread: 0, pool: 2))
        try await Self.commit(syncer)
        #expect(syncer.drains == .init(ownThread: 1, pool: 2))

        disk.slow.store(false, ordering: .relaxed)
        try await Self.commit(syncer)  // the latest fsync known was slow
        #expect(syncer.drains == .init(ownThread: 2, pool: 2))
        try await Self.commit(syncer)
        #expect(syncer.drains == .init(ownThread: 2, pool: 3))
        #expect(disk.syncs.load(ordering: .relaxed) == 5)
    }

    @Test func aDrainOnThePoolHandsOverBetweenTwoFsyncsOnceOneWasSlow() async throws {
        let disk = Disk()
        let syncer = Self.makeSyncer(disk)
        let gate = DispatchSemaphore(value: 0)
        disk.held.withLock { $0 = gate }
        disk.slow.store(true, ordering: .relaxed)
        async let first: Void = Self.commit(syncer)
        while disk.syncs.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        // The first fsync is under way on the pool; the second commit waits behind it, in the same drain.
        disk.held.withLock { $0 = nil }
        let enqueued = Counter()
        async let second: Void = Self.commit(syncer, enqueued: enqueued)
        while enqueued.value.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        gate.signal()
        try await first
        try await second
        #expect(syncer.drains == .init(ownThread: 1, pool: 1))
        #expect(disk.syncs.load(ordering: .relaxed) == 2)
    }

    @Test func commitsArePublishedInOrderAndAllAcknowledgedAcrossHandOvers() async throws {
        let disk = Disk()
        let published = Published()
        let syncer = OpLogSyncer(
            sync: { disk.sync() }, published: { events in published.revisions.withLock { $0 += events.map(\.revision) } },
            slowSync: .milliseconds(5))
        // Commits arrive in bursts while fsyncs turn slow and fast again, so drains start in both places
        // and hand over between them.
        let enqueued = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for revision in Int64(1)...120 {
                if revision % 20 == 1 { disk.slow.store(revision % 40 == 21, ordering: .relaxed) }
                let event = KVEvent(kind: .put, keyValue: KeyValue(key: "/k", value: Data(), createRevision: 1, modRevision: revision, version: revision))
                group.addTask { try await Self.commit(syncer, events: [event], enqueued: enqueued) }
                // Tasks start in any order: waiting for this one to enqueue keeps the revisions in order.
                while enqueued.value.load(ordering: .relaxed) < revision { await Task.yield() }
            }
            try await group.waitForAll()
        }
        #expect(published.revisions.withLock { $0 } == Array(1...120))
        #expect(syncer.drains.ownThread > 0 && syncer.drains.pool > 0)
    }
}
