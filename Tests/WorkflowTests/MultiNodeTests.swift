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

    @Test func aDeadNodesRunsMoveToALiveNode() async throws {
        let directory = try TemporaryDirectory("multinode")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
        let objects = ObjectStore(kv: kv)
        func engine(_ node: String) -> WorkflowEngine {
            // Short enough to wait out, long enough that a loaded CI machine does not miss a keep-alive.
            WorkflowEngine(objects: objects, catalog: WorkflowCatalog([Self.spec]), node: node, claimTTL: .seconds(3))
        }
        let a = engine("a")
        let b = engine("b")
        try await a.recover()
        var ids: [String] = []
        for _ in 0..<5 { ids.append(try await a.start(workflow: "w").id) }
        // b sees the runs but leaves them to a, whose lease is alive.
        #expect(try await b.recover() == 0)
        #expect(a.activeRuns == 5 && b.activeRuns == 0)

        // a dies: it stops keeping its lease alive and drives nothing more.
        a.shutdown()
        let deadline = ContinuousClock.now + .seconds(15)
        while b.activeRuns < 5, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(b.activeRuns == 5, "b took over \(b.activeRuns) of 5 runs")

        // Only b drives them now, and they finish there.
        for _ in 0..<1000 {
            if try await objects.all(Job.self).filter({ $0.object.step == "wait" && $0.object.state == .waiting }).count == 5 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await b.publish(Event(type: "go", time: Date()))
        for id in ids { #expect(try await b.waitUntilFinished(id).state == .succeeded) }
        #expect(try await kv.all(prefix: RunClaims.prefix).isEmpty, "finished runs release their claims")
        b.shutdown()
        await kv.close()
    }

    /// A node whose lease ran out (it stalled longer than the TTL) claims under a new lease afterwards.
    @Test func aNodeThatLostItsLeaseClaimsUnderANewOne() async throws {
        let directory = try TemporaryDirectory("multinode")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
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
        #expect(try await kv.get(RunClaims.prefix + "run-1")?.lease == next)
        claims.stop()
        await kv.close()
    }

    /// A claim made after the lease lapsed, before the keep-alive noticed, is made under a new lease.
    @Test func aClaimAfterTheLeaseLapsedTakesANewLease() async throws {
        let directory = try TemporaryDirectory("multinode")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
        let claims = RunClaims(kv: kv, node: "n", ttl: .seconds(60), logger: Logger(label: "test"))
        let first = try await claims.currentLease()
        try await kv.revokeLease(first)
        #expect(try await claims.claim("run-1"))
        let lease = try await kv.get(RunClaims.prefix + "run-1")?.lease
        #expect(lease != nil && lease != first)
        #expect(try await claims.currentLease() == lease)
        claims.stop()
        await kv.close()
    }

    /// A node whose lease lapsed while it stalled changes nothing more once it wakes: the node that took
    /// the run over finishes it, and the step after the wait runs once, not once per node.
    @Test func aNodeThatLostItsClaimStopsDrivingTheRun() async throws {
        let directory = try TemporaryDirectory("multinode")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
        let objects = ObjectStore(kv: kv)
        let journal = Journal()
        var actions = ActionRegistry.core
        actions.register(RecordAction(journal: journal))
        let spec = WorkflowSpec(name: "w", steps: [
            StepSpec(id: "wait", action: "wait-event", arguments: ["type": .string("go")]),
            StepSpec(id: "after", action: "record", arguments: ["label": .string("after")], needs: ["wait"]),
        ])
        func engine(_ node: String) -> WorkflowEngine {
            WorkflowEngine(objects: objects, catalog: WorkflowCatalog([spec]), actions: actions, node: node, claimTTL: .seconds(30))
        }
        let a = engine("a")
        let b = engine("b")
        try await a.recover()
        try await b.recover()
        let id = try await a.start(workflow: "w").id
        for _ in 0..<500 where try await objects.get(Job.self, id: id + ".wait")?.object.state != .waiting {
            try await Task.sleep(for: .milliseconds(10))
        }
        // a's lease lapses (as after a stall longer than its TTL); its claim goes with it and b adopts the run.
        try await kv.revokeLease(try await a.claims.currentLease())
        for _ in 0..<500 where b.activeRuns < 1 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(b.activeRuns == 1 && a.activeRuns == 1, "b adopted the run; a has not noticed yet")
        // The event reaches both nodes, each of which hands it to the runs it drives.
        let event = Event(type: "go", time: Date())
        try await a.publish(event)
        b.route(event)
        #expect(try await b.waitUntilFinished(id).state == .succeeded)
        for _ in 0..<500 where a.activeRuns > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(a.activeRuns == 0, "a stopped driving the run when its commit found the claim gone")
        #expect(journal.order == ["after"])
        a.shutdown()
        b.shutdown()
        await kv.close()
    }

    /// Each node follows the events the others store: one published through b wakes a run a drives.
    @Test func anEventPublishedOnOneNodeWakesARunDrivenOnAnother() async throws {
        let directory = try TemporaryDirectory("multinode")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
        let objects = ObjectStore(kv: kv)
        let a = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([Self.spec]), node: "a", claimTTL: .seconds(30))
        let b = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([Self.spec]), node: "b", claimTTL: .seconds(30))
        try await a.recover()
        try await b.recover()
        let id = try await a.start(workflow: "w").id
        for _ in 0..<1000 where try await objects.get(Job.self, id: id + ".wait")?.object.state != .waiting {
            try await Task.sleep(for: .milliseconds(10))
        }
        try await b.publish(Event(type: "go", time: Date()))
        for _ in 0..<1000 where try await objects.get(Run.self, id: id)?.object.state.isFinal != true {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try await objects.get(Run.self, id: id)?.object.state == .succeeded)
        #expect(b.activeRuns == 0, "a drove the run throughout")
        a.shutdown()
        b.shutdown()
        await kv.close()
    }

    @Test func aRestartedNodeTakesItsOwnRunsBackAtOnce() async throws {
        let directory = try TemporaryDirectory("multinode")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
        let objects = ObjectStore(kv: kv)
        let first = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([Self.spec]), node: "n1", claimTTL: .seconds(30))
        let id = try await first.start(workflow: "w").id
        for _ in 0..<500 where try await objects.get(Job.self, id: id + ".wait")?.object.state != .waiting {
            try await Task.sleep(for: .milliseconds(10))
        }
        first.shutdown()
        let second = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([Self.spec]), node: "n1", claimTTL: .seconds(30))
        #expect(try await second.recover() == 1)
        let other = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([Self.spec]), node: "n2", claimTTL: .seconds(30))
        #expect(try await other.recover() == 0)
        try await second.publish(Event(type: "go", time: Date()))
        #expect(try await second.waitUntilFinished(id).state == .succeeded)
        second.shutdown()
        other.shutdown()
        await kv.close()
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
        let deadline = ContinuousClock.now + .seconds(30)
        while b.activeRuns < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(b.activeRuns == 3, "b took over \(b.activeRuns) of 3 runs")
        for _ in 0..<1000 {
            let waiting = try await objects.all(Job.self).filter { ids.contains($0.object.run) && $0.object.step == "wait" && $0.object.state == .waiting }
            if waiting.count == 3 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await b.publish(Event(type: name, time: Date()))
        for id in ids { #expect(try await b.waitUntilFinished(id).state == .succeeded) }
        b.shutdown()
        await kv.close()
    }
}
