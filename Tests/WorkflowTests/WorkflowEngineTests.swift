import Foundation
import StrictYAML
import OSIS
import Synchronization
import Testing
import TestSupport
import Workflow

/// Records what ran, in order; an action tests use to observe the engine.
struct RecordAction: WorkflowAction {
    static let name = "record"
    static let arguments = [
        ArgumentSpec("label", .string, required: true), ArgumentSpec("fail-times", .int), ArgumentSpec("wait-for-company", .bool),
    ]
    static let concurrencyLimit: Int? = 2
    let journal: Journal

    func run(_ context: StepContext) async throws -> StepOutcome {
        let label = context.string("label") ?? "?"
        let concurrent = journal.begin(label)
        defer { journal.end() }
        try await Task.sleep(for: .milliseconds(5))
        // Stay until another step runs beside this one (2 s at most), so overlap does not depend on timing.
        if context.arguments["wait-for-company"] == .bool(true) {
            let deadline = ContinuousClock.now + .seconds(2)
            while journal.peak < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        }
        if context.attempt <= (context.int("fail-times") ?? 0) { throw ActionError("planned failure \(context.attempt)") }
        return .succeeded(["label": .string(label), "concurrent": .int(concurrent)])
    }
}

final class Journal: Sendable {
    private let state = Mutex<(order: [String], running: Int, peak: Int)>(([], 0, 0))
    func begin(_ label: String) -> Int {
        state.withLock {
            $0.order.append(label)
            $0.running += 1
            $0.peak = max($0.peak, $0.running)
            return $0.running
        }
    }
    func end() { state.withLock { $0.running -= 1 } }
    var order: [String] { state.withLock { $0.order } }
    var peak: Int { state.withLock { $0.peak } }
}

@Suite(.timeLimit(.minutes(3))) struct WorkflowEngineTests {
    struct Fixture {
        let engine: WorkflowEngine
        let objects: ObjectStore
        let clock: ManualClock
        let journal: Journal
    }

    func withEngine(_ specs: [WorkflowSpec], path: String? = nil, _ body: (Fixture) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("engine")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: path ?? directory.file("state.sqlite"))
        let journal = Journal()
        let objects = ObjectStore(kv: kv)
        var actions = ActionRegistry.core
        actions.register(RecordAction(journal: journal))
        actions.register(AnnounceThenWaitAction(objects: objects))
        let clock = ManualClock()
        let engine = WorkflowEngine(objects: objects, catalog: WorkflowCatalog(specs), actions: actions, clock: clock)
        try await body(Fixture(engine: engine, objects: objects, clock: clock, journal: journal))
        engine.shutdown()
        await kv.close()
    }

    func record(_ id: String, needs: [String] = [], failTimes: Int = 0) -> StepSpec {
        StepSpec(id: id, action: "record", arguments: ["label": .string(id), "fail-times": .int(failTimes)], needs: needs)
    }

    @Test func aRunCompletesAndEveryTransitionIsStored() async throws {
        let spec = WorkflowSpec(name: "w", steps: [record("a"), record("b", needs: ["a"]), record("c", needs: ["a"]), record("d", needs: ["b", "c"])])
        try await withEngine([spec]) { f in
            let run = try await f.engine.start(workflow: "w", machine: "52:54:00:12:34:56")
            let finished = try await f.engine.waitUntilFinished(run.id)
            #expect(finished.state == .succeeded && finished.progress == 100)
            let order = f.journal.order
            #expect(order.first == "a" && order.last == "d" && Set(order) == ["a", "b", "c", "d"])
            let jobs = try await f.objects.all(Job.self, idPrefix: run.id + ".")
            #expect(jobs.map(\.object.state) == [.succeeded, .succeeded, .succeeded, .succeeded])
            #expect(jobs.first?.object.outputs["label"] == .string("a"))
            #expect(try await f.objects.get(Run.self, id: run.id)?.object.state == .succeeded)
            // The end of the run is an event, stored with the run's last commit.
            let events = try await f.objects.all(Event.self).map(\.object).filter { $0.run == run.id }
            #expect(events.map(\.type) == ["run.finished"] && events.first?.data["state"] == "succeeded")
        }
    }

    @Test func perActionConcurrencyLimitsHold() async throws {
        let spec = WorkflowSpec(name: "wide", steps: (0..<8).map { i in
            var step = record("s\(i)")
            step.arguments["wait-for-company"] = .bool(true)
            return step
        })
        try await withEngine([spec]) { f in
            let run = try await f.engine.start(workflow: "wide")
            #expect(try await f.engine.waitUntilFinished(run.id).state == .succeeded)
            #expect(f.journal.peak == 2)
        }
    }

    @Test func retriesWaitForTheirBackoffOnTheClock() async throws {
        var flaky = record("flaky", failTimes: 2)
        flaky.retry = RetryPolicy(attempts: 3, backoff: .seconds(60))
        try await withEngine([WorkflowSpec(name: "w", steps: [flaky])]) { f in
            let run = try await f.engine.start(workflow: "w")
            try await eventually { f.clock.sleeperCount == 1 }
            #expect(f.journal.order == ["flaky"])
            f.clock.advance(by: 60)
            try await eventually { f.journal.order.count == 2 && f.clock.sleeperCount == 1 }
            f.clock.advance(by: 120)
            let finished = try await f.engine.waitUntilFinished(run.id)
            #expect(finished.state == .succeeded)
            #expect(try await f.objects.get(Job.self, id: run.id + ".flaky")?.object.attempt == 3)
        }
    }

    @Test func sleepAndWaitForEventFollowTheClockAndEvents() async throws {
        let spec = WorkflowSpec(name: "boot", steps: [
            StepSpec(id: "nap", action: "sleep", arguments: ["for": .duration(.seconds(300))]),
            StepSpec(id: "booted", action: "wait-event", arguments: ["type": .string("machine.booted"), "timeout": .duration(.seconds(600))], needs: ["nap"]),
            record("after", needs: ["booted"]),
        ])
        try await withEngine([spec]) { f in
            let run = try await f.engine.start(workflow: "boot", machine: "m1")
            try await eventually { try await f.objects.get(Job.self, id: run.id + ".nap")?.object.state == .waiting }
            f.clock.advance(by: 300)
            try await eventually { try await f.objects.get(Job.self, id: run.id + ".booted")?.object.state == .waiting }
            try await f.engine.publish(Event(type: "machine.booted", machine: "other", time: f.clock.now()))
            try await f.engine.publish(Event(type: "machine.booted", machine: "m1", time: f.clock.now(), data: ["ip": "10.0.0.9"]))
            let finished = try await f.engine.waitUntilFinished(run.id)
            #expect(finished.state == .succeeded)
            #expect(try await f.objects.get(Job.self, id: run.id + ".booted")?.object.outputs["ip"] == .string("10.0.0.9"))
        }
    }

    @Test func cancellingARunCancelsItsJobs() async throws {
        let spec = WorkflowSpec(name: "w", steps: [StepSpec(id: "wait", action: "wait-event", arguments: ["type": .string("never")]), record("b", needs: ["wait"])])
        try await withEngine([spec]) { f in
            let run = try await f.engine.start(workflow: "w")
            try await eventually { try await f.objects.get(Job.self, id: run.id + ".wait")?.object.state == .waiting }
            try await f.engine.cancel(run.id)
            let finished = try await f.engine.waitUntilFinished(run.id)
            #expect(finished.state == .cancelled)
            #expect(try await f.objects.all(Job.self, idPrefix: run.id + ".").allSatisfy { $0.object.state == .cancelled })
        }
    }

    @Test func aFailedRunResumesFromTheFailedStep() async throws {
        let spec = WorkflowSpec(name: "w", steps: [record("a"), record("b", needs: ["a"], failTimes: 1), record("c", needs: ["b"])])
        try await withEngine([spec]) { f in
            let run = try await f.engine.start(workflow: "w")
            #expect(try await f.engine.waitUntilFinished(run.id).state == .failed)
            try await f.engine.resume(run.id)
            let finished = try await f.engine.waitUntilFinished(run.id)
            #expect(finished.state == .succeeded)
            // a ran once; b failed once, then ran again on resume as attempt 2.
            #expect(f.journal.order == ["a", "b", "b", "c"])
            #expect(try await f.objects.get(Job.self, id: run.id + ".b")?.object.attempt == 2)
        }
    }

    @Test func unfinishedRunsResumeInANewEngine() async throws {
        let directory = try TemporaryDirectory("engine-restart")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let spec = WorkflowSpec(name: "w", steps: [
            record("a"), StepSpec(id: "wait", action: "wait-event", arguments: ["type": .string("go")], needs: ["a"]), record("c", needs: ["wait"]),
        ])
        var runID = ""
        try await withEngine([spec], path: path) { f in
            runID = try await f.engine.start(workflow: "w").id
            try await eventually { try await f.objects.get(Job.self, id: runID + ".wait")?.object.state == .waiting }
        }
        try await withEngine([spec], path: path) { f in
            #expect(try await f.engine.recover() == 1)
            try await f.engine.publish(Event(type: "go", time: f.clock.now()))
            let finished = try await f.engine.waitUntilFinished(runID)
            #expect(finished.state == .succeeded)
            #expect(f.journal.order == ["c"])
        }
    }

    /// A step that was running when the process died fails that attempt; with no retries left the
    /// reloaded run ends at once, and its end reaches waiters like any other.
    @Test func aRunThatEndsAsItIsReloadedFinishes() async throws {
        let directory = try TemporaryDirectory("engine-interrupted")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let spec = WorkflowSpec(name: "w", steps: [record("a"), record("b", needs: ["a"])])
        var runID = ""
        try await withEngine([spec], path: path) { f in
            // As the engine leaves a run whose process died during step a.
            let run = Run(id: "run-1", workflow: "w", workflowVersion: spec.version, machine: nil, parameters: [:], startedAt: f.clock.now())
            var jobs = RunStateMachine.newJobs(for: spec, runID: run.id, now: f.clock.now())
            jobs[0].state = .running
            jobs[0].attempt = 1
            _ = try await f.objects.commit([try .create(run)] + jobs.map { try ObjectWrite.put($0) })
            runID = run.id
        }
        try await withEngine([spec], path: path) { f in
            #expect(try await f.engine.recover() == 1)
            try await eventually { f.engine.activeRuns == 0 }
            let finished = try await f.engine.waitUntilFinished(runID)
            #expect(finished.state == .failed)
            #expect(finished.error?.contains("interrupted") == true)
            #expect(f.journal.order.isEmpty)
        }
    }

    @Test func badParametersAreRejectedBeforeAnythingIsStored() async throws {
        let spec = WorkflowSpec(
            name: "w", parameters: [ParameterSpec(name: "n", type: .int, location: .init(file: "f", line: 1, column: 1))], steps: [record("a")])
        try await withEngine([spec]) { f in
            await #expect(throws: EngineError.self) { try await f.engine.start(workflow: "w") }
            await #expect(throws: EngineError.self) { try await f.engine.start(workflow: "w", parameters: ["n": .string("lots")]) }
            await #expect(throws: EngineError.self) { try await f.engine.start(workflow: "nope") }
            #expect(try await f.objects.all(Run.self).isEmpty)
            let run = try await f.engine.start(workflow: "w", parameters: ["n": .string("3")])
            #expect(run.parameters["n"] == .int(3))
        }
    }

    @Test func anOrchestratingStepRunsAChildWorkflowAndWaitsForIt() async throws {
        let child = WorkflowSpec(
            name: "child", parameters: [ParameterSpec(name: "label", type: .string, location: .init(file: "f", line: 1, column: 1))],
            steps: [
                StepSpec(id: "go", action: "wait-event", arguments: ["type": .string("go")]),
                StepSpec(id: "work", action: "record", arguments: ["label": .string("${params.label}")], needs: ["go"]),
            ])
        let parent = WorkflowSpec(name: "parent", steps: [
            StepSpec(id: "sub", action: "workflow", arguments: ["name": .string("child"), "params": .list([.string("label=from-parent")])]),
            record("after", needs: ["sub"]),
        ])
        try await withEngine([child, parent]) { f in
            let run = try await f.engine.start(workflow: "parent", machine: "m1")
            let childID = run.id + "-sub"
            try await eventually { try await f.objects.get(Run.self, id: childID)?.object.state == .running }
            #expect(try await f.objects.get(Run.self, id: childID)?.object.parent == run.id)
            try await eventually { try await f.objects.get(Job.self, id: run.id + ".sub")?.object.state == .waiting }
            try await eventually { try await f.objects.get(Job.self, id: childID + ".go")?.object.state == .waiting }
            // The child runs for the parent's machine, so it waits for that machine's event.
            try await f.engine.publish(Event(type: "go", machine: "m1", time: f.clock.now()))
            let finished = try await f.engine.waitUntilFinished(run.id)
            #expect(finished.state == .succeeded)
            #expect(f.journal.order == ["from-parent", "after"])
        }
    }

    @Test func aFailedChildFailsTheParentStep() async throws {
        let child = WorkflowSpec(name: "child", steps: [StepSpec(id: "boom", action: "fail")])
        let parent = WorkflowSpec(name: "parent", steps: [StepSpec(id: "sub", action: "workflow", arguments: ["name": .string("child")])])
        try await withEngine([child, parent]) { f in
            let run = try await f.engine.start(workflow: "parent")
            let finished = try await f.engine.waitUntilFinished(run.id)
            #expect(finished.state == .failed)
            #expect(finished.error?.contains("child run \(run.id)-sub ended failed") == true, "\(finished.error ?? "")")
        }
    }
}
