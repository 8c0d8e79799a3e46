import Foundation
import OSIS
import Testing
import TestSupport
import Workflow

/// Stores an event of `type`, then waits for one: the event lands after the attempt began but before
/// the engine routes that type to the run, the instant a fast machine's report can fall into.
struct AnnounceThenWaitAction: WorkflowAction {
    static let name = "announce-then-wait"
    static let arguments = [ArgumentSpec("type", .string, required: true)]
    let objects: ObjectStore

    func run(_ context: StepContext) async throws -> StepOutcome {
        let type = context.string("type") ?? "?"
        _ = try await objects.put(Event(type: type, time: context.now, data: ["from": "announce"]))
        return .wait(.event(type: type, machine: nil, deadline: nil))
    }
}

/// Waits and events that cross: an event is never lost because nobody was listening for it yet.
extension WorkflowEngineTests {
    @Test func anEventStoredBeforeTheStepListensStillWakesIt() async throws {
        let spec = WorkflowSpec(name: "w", steps: [
            StepSpec(id: "wait", action: "announce-then-wait", arguments: ["type": .string("ready")]), record("after", needs: ["wait"]),
        ])
        try await withEngine([spec]) { f in
            let run = try await f.engine.start(workflow: "w")
            #expect(try await f.engine.waitUntilFinished(run.id).state == .succeeded)
            #expect(f.journal.order == ["after"])
        }
    }

    @Test func eventsStoredWhileNoEngineDrivesTheRunWakeItOnRecovery() async throws {
        let directory = try TemporaryDirectory("engine-missed")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let spec = WorkflowSpec(name: "w", steps: [
            StepSpec(id: "wait", action: "wait-event", arguments: ["type": .string("go")]), record("c", needs: ["wait"]),
        ])
        var runID = ""
        var waitBegan = Date()
        try await withEngine([spec], path: path) { f in
            runID = try await f.engine.start(workflow: "w").id
            try await eventually { try await f.objects.get(Job.self, id: runID + ".wait")?.object.state == .waiting }
            waitBegan = try #require(try await f.objects.get(Job.self, id: runID + ".wait")?.object.startedAt)
        }
        // The appliance is down: events still reach the store (another node, or an agent's retry).
        let kv = try SQLiteKV(path: path)
        let objects = ObjectStore(kv: kv)
        _ = try await objects.put(Event(type: "go", time: waitBegan.addingTimeInterval(-5), data: ["which": "before the wait"]))
        let meant = try await objects.put(Event(type: "go", time: waitBegan.addingTimeInterval(1), data: ["which": "during the wait"]))
        await kv.close()
        try await withEngine([spec], path: path) { f in
            #expect(try await f.engine.recover() == 1)
            #expect(try await f.engine.waitUntilFinished(runID).state == .succeeded)
            let wait = try await f.objects.get(Job.self, id: runID + ".wait")?.object
            #expect(wait?.outputs["event"] == .string(meant.object.id), "an event from before the wait began does not count")
            #expect(f.journal.order == ["c"])
        }
    }

    @Test func cancellingAWaiterEndsItsWaitNotTheRun() async throws {
        let spec = WorkflowSpec(name: "w", steps: [StepSpec(id: "wait", action: "wait-event", arguments: ["type": .string("go")])])
        try await withEngine([spec]) { f in
            let run = try await f.engine.start(workflow: "w")
            let engine = f.engine
            let waiter = Task { try await engine.waitUntilFinished(run.id) }
            try await Task.sleep(for: .milliseconds(50))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(f.engine.activeRuns == 1)
            try await f.engine.publish(Event(type: "go", time: f.clock.now()))
            #expect(try await f.engine.waitUntilFinished(run.id).state == .succeeded)
        }
    }
}
