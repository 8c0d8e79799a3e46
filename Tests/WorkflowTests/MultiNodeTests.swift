import Foundation
import Logging
import OSIS
import Testing
import TestSupport

@testable import Workflow

/// Several engines sharing one store: each run is driven by one node, and a dead node's runs move to a
/// live one once its lease expires.
@Suite(.timeLimit(.minutes(3))) struct MultiNodeTests {
    static let spec = WorkflowSpec(name: "w", steps: [
        StepSpec(id: "wait", action: "wait-event", arguments: ["type": .string("go")]),
        StepSpec(id: "done", action: "log", arguments: ["message": .string("done")], needs: ["wait"]),
    ])

    /// One SQLite store that several engines share, closed and removed after `body`.
    func withSharedStore(_ body: (SQLiteKV, ObjectStore) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("multinode")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
        try await body(kv, ObjectStore(kv: kv))
        await kv.close()
    }

    func engine(
        _ node: String, on objects: ObjectStore, spec: WorkflowSpec = Self.spec, actions: ActionRegistry = .core,
        ttl: Duration = .seconds(30)
    ) -> WorkflowEngine {
        WorkflowEngine(objects: objects, catalog: WorkflowCatalog([spec]), actions: actions, node: node, claimTTL: ttl)
    }

    /// A wait for "go", then a step that records "after" in `journal`: how often it ran, on any node.
    static func recording(into journal: Journal) -> (WorkflowSpec, ActionRegistry) {
        var actions = ActionRegistry.core
        actions.register(RecordAction(journal: journal))
        let spec = WorkflowSpec(name: "w", steps: [
            StepSpec(id: "wait", action: "wait-event", arguments: ["type": .string("go")]),
            StepSpec(id: "after", action: "record", arguments: ["label": .string("after")], needs: ["wait"]),
        ])
        return (spec, actions)
    }

    func waitingStep(_ runID: String, in objects: ObjectStore) async throws -> Bool {
        try await objects.get(Job.self, id: runID + ".wait")?.object.state == .waiting
    }

    @Test func aDeadNodesRunsMoveToALiveNode() async throws {
        try await withSharedStore { kv, objects in
            // Short enough to wait out, long enough that a loaded CI machine does not miss a keep-alive.
            let a = engine("a", on: objects, ttl: .seconds(3))
            let b = engine("b", on: objects, ttl: .seconds(3))
            try await a.recover()
            var ids: [String] = []
            for _ in 0..<5 { ids.append(try await a.start(workflow: "w").id) }
            // b sees the runs but leaves them to a, whose lease is alive.
            #expect(try await b.recover() == 0)
            #expect(a.activeRuns == 5 && b.activeRuns == 0)
            // Every run waits on a: a death in the middle of a step would fail that attempt (at-least-once),
            // and without retries, the run.
            for id in ids { try await eventually { try await waitingStep(id, in: objects) } }

            // a dies: it stops keeping its lease alive and drives nothing more.
            a.shutdown()
            try await eventually(within: .seconds(15)) { b.activeRuns == 5 }
            #expect(b.activeRuns == 5, "b took over \(b.activeRuns) of 5 runs")

            // Only b drives them now, and they finish there.
            try await b.publish(Event(type: "go", time: Date()))
            for id in ids { #expect(try await b.waitUntilFinished(id).state == .succeeded) }
            #expect(try await kv.all(prefix: RunClaims.prefix).isEmpty, "finished runs release their claims")
            b.shutdown()
        }
    }

    /// A node whose lease ran out (it stalled longer than the TTL) claims under a new lease afterwards.
    @Test func aNodeThatLostItsLeaseClaimsUnderANewOne() async throws {
        try await withSharedStore { kv, _ in
            let claims = RunClaims(kv: kv, node: "n", ttl: .milliseconds(300), logger: Logger(label: "test"))
            let first = try await claims.currentLease()
            try await kv.revokeLease(first)
            var next = first
            for _ in 0..<100 where next == first {
                try await Task.sleep(for: .milliseconds(20))
                next = try await claims.currentLease()
            }
            #expect(next != first)
            #expect(try await claims.claim("run-1"))
            // Not necessarily `next`: a stall past the 300 ms TTL (one CI run had 9 s) lapses that one too,
            // and the claim is then made under a newer lease still. Never under the revoked one.
            let lease = try await kv.get(RunClaims.prefix + "run-1")?.lease
            #expect(lease != nil && lease != first)
            claims.stop()
        }
    }

    /// A claim made after the lease lapsed, before the keep-alive noticed, is made under a new lease.
    @Test func aClaimAfterTheLeaseLapsedTakesANewLease() async throws {
        try await withSharedStore { kv, _ in
            let claims = RunClaims(kv: kv, node: "n", ttl: .seconds(60), logger: Logger(label: "test"))
            let first = try await claims.currentLease()
            try await kv.revokeLease(first)
            #expect(try await claims.claim("run-1"))
            let lease = try await kv.get(RunClaims.prefix + "run-1")?.lease
            #expect(lease != nil && lease != first)
            #expect(try await claims.currentLease() == lease)
            claims.stop()
        }
    }

    /// A node whose lease lapsed while it stalled changes nothing more once it wakes: the node that took
    /// the run over finishes it, and the step after the wait runs once, not once per node.
    @Test func aNodeThatLostItsClaimStopsDrivingTheRun() async throws {
        let journal = Journal()
        let (spec, actions) = Self.recording(into: journal)
        try await withSharedStore { kv, objects in
            let a = engine("a", on: objects, spec: spec, actions: actions)
            let b = engine("b", on: objects, spec: spec, actions: actions)
            try await a.recover()
            try await b.recover()
            let id = try await a.start(workflow: "w").id
            try await eventually { try await waitingStep(id, in: objects) }
            // Someone waits on a for the run's end, which b will bring about.
            let waiter = Task { try await a.waitUntilFinished(id) }
            try await eventually { a.hasWaiters(id) }
            // a's lease lapses (as after a stall longer than its TTL); its claim goes with it and b adopts the run.
            try await kv.revokeLease(try await a.claims.currentLease())
            try await eventually { b.activeRuns == 1 }
            #expect(a.activeRuns == 1, "a has not noticed yet")
            // The event reaches both nodes, each of which hands it to the runs it drives.
            let event = Event(type: "go", time: Date())
            try await a.publish(event)
            b.route(event)
            #expect(try await b.waitUntilFinished(id).state == .succeeded)
            try await eventually { a.activeRuns == 0 }
            #expect(journal.order == ["after"], "a stopped driving the run when its commit found the claim gone")
            #expect(try await waiter.value.state == .succeeded, "the wait on a followed the run to its end on b")
            a.shutdown()
            b.shutdown()
        }
    }

    /// A node whose lease lapsed while nobody took its runs takes their claims again when it next
    /// commits, and carries on; each step runs once.
    @Test func aLapsedClaimNobodyTookIsTakenAgainInPlace() async throws {
        let journal = Journal()
        let (spec, actions) = Self.recording(into: journal)
        try await withSharedStore { kv, objects in
            let a = engine("a", on: objects, spec: spec, actions: actions)
            let id = try await a.start(workflow: "w").id
            try await eventually { try await waitingStep(id, in: objects) }
            try await kv.revokeLease(try await a.claims.currentLease())
            #expect(try await kv.get(RunClaims.prefix + id) == nil, "the claim went with the lease")
            try await a.publish(Event(type: "go", time: Date()))
            #expect(try await a.waitUntilFinished(id).state == .succeeded)
            #expect(journal.order == ["after"])
            a.shutdown()
        }
    }

    /// Each node follows the events the others store: one published through b wakes a run a drives.
    @Test func anEventPublishedOnOneNodeWakesARunDrivenOnAnother() async throws {
        try await withSharedStore { _, objects in
            let a = engine("a", on: objects)
            let b = engine("b", on: objects)
            try await a.recover()
            try await b.recover()
            let id = try await a.start(workflow: "w").id
            try await eventually { try await waitingStep(id, in: objects) }
            try await b.publish(Event(type: "go", time: Date()))
            try await eventually { try await objects.get(Run.self, id: id)?.object.state.isFinal == true }
            #expect(try await objects.get(Run.self, id: id)?.object.state == .succeeded)
            #expect(b.activeRuns == 0, "a drove the run throughout")
            a.shutdown()
            b.shutdown()
        }
    }

    /// A wait on a node that does not drive the run follows it in the store to its end.
    @Test func aWaitOnAnotherNodeReturnsTheFinalState() async throws {
        try await withSharedStore { _, objects in
            let a = engine("a", on: objects)
            let b = engine("b", on: objects)
            let id = try await a.start(workflow: "w").id
            try await eventually { try await waitingStep(id, in: objects) }
            let waiter = Task { try await b.waitUntilFinished(id) }
            // The wait starts while the run is unfinished (a wait begun after its end reads it at once).
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await objects.get(Run.self, id: id)?.object.state == .running)
            try await a.publish(Event(type: "go", time: Date()))
            #expect(try await waiter.value.state == .succeeded)
            #expect(b.activeRuns == 0)
            a.shutdown()
            b.shutdown()
        }
    }

    /// A stopped node takes no new lease: one granted after `stop` would be kept alive by nobody's
    /// decision, and a claim under it would hold a run no node drives.
    @Test func aStoppedNodeClaimsNothing() async throws {
        try await withSharedStore { kv, _ in
            let claims = RunClaims(kv: kv, node: "n", ttl: .seconds(60), logger: Logger(label: "test"))
            claims.stop()
            await #expect(throws: CancellationError.self) { try await claims.claim("run-1") }
            let claim = try await kv.get(RunClaims.prefix + "run-1")
            #expect(claim == nil)
        }
    }

    @Test func aRestartedNodeTakesItsOwnRunsBackAtOnce() async throws {
        try await withSharedStore { _, objects in
            let first = engine("n1", on: objects)
            let id = try await first.start(workflow: "w").id
            try await eventually { try await waitingStep(id, in: objects) }
            first.shutdown()
            let second = engine("n1", on: objects)
            #expect(try await second.recover() == 1)
            let other = engine("n2", on: objects)
            #expect(try await other.recover() == 0)
            try await second.publish(Event(type: "go", time: Date()))
            #expect(try await second.waitUntilFinished(id).state == .succeeded)
            second.shutdown()
            other.shutdown()
        }
    }
}

/// The same hand-over on a real etcd, where several appliances would share state.
@Suite(.timeLimit(.minutes(3))) struct MultiNodeEtcdTests {
    @Test func aDeadNodesRunsMoveToALiveNodeOnEtcd() async throws {
        guard let endpoints = try RealServices.require("PROVISION_TEST_ETCD_ENDPOINTS", service: "etcd") else { return }
        let kv = try EtcdKV(endpoints: endpoints.split(separator: ",").map(String.init))
        let objects = ObjectStore(kv: kv)
        // A workflow name of its own, so runs other tests left in this etcd are not this test's.
        let name = "handover-" + UUID().uuidString.prefix(8).lowercased()
        let spec = WorkflowSpec(name: name, steps: [
            StepSpec(id: "wait", action: "wait-event", arguments: ["type": .string(name)]),
            StepSpec(id: "done", action: "log", arguments: ["message": .string("done")], needs: ["wait"]),
        ])
        // Long enough that a's keep-alives (every third of it) reach an etcd busy with the whole suite's
        // fsyncs: a CI run with 2 s saw a's lease expire before b looked, and b took the runs at once.
        let a = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([spec]), node: "a-" + name, claimTTL: .seconds(6))
        let b = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([spec]), node: "b-" + name, claimTTL: .seconds(6))
        var ids: [String] = []
        for _ in 0..<3 { ids.append(try await a.start(workflow: name).id) }
        try await b.recover()
        #expect(b.activeRuns == 0)
        a.shutdown()
        try await eventually(within: .seconds(30)) { b.activeRuns == 3 }
        #expect(b.activeRuns == 3, "b took over \(b.activeRuns) of 3 runs")
        for id in ids { try await eventually { try await objects.get(Job.self, id: id + ".wait")?.object.state == .waiting } }
        try await b.publish(Event(type: name, time: Date()))
        for id in ids { #expect(try await b.waitUntilFinished(id).state == .succeeded) }
        b.shutdown()
        await kv.close()
    }
}
