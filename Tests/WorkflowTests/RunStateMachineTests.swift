import Foundation
import StrictYAML
import Testing
import Workflow

/// The run rules, from values: no store, no clock, no tasks.
@Suite struct RunStateMachineTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func machine(_ steps: [StepSpec], parameters: [ParameterSpec] = [], given: [String: SpecValue] = [:]) -> RunStateMachine {
        let spec = WorkflowSpec(name: "w", parameters: parameters, steps: steps)
        let run = Run(id: "r", workflow: "w", workflowVersion: 1, machine: "m1", parameters: given, startedAt: t0)
        return RunStateMachine(
            spec: spec, run: run, jobs: RunStateMachine.newJobs(for: spec, runID: "r", now: t0), machine: ["hostname": "node1"],
            actions: .core)
    }

    func log(_ id: String, needs: [String] = [], message: String = "x", when: String? = nil) -> StepSpec {
        StepSpec(id: id, action: "log", arguments: ["message": .string(message)], needs: needs, condition: when.map { try! Condition.parse($0) })
    }

    /// Runs every ready step to success, in the order given by `pick`, until the run ends.
    func runToEnd(_ m: inout RunStateMachine, outcome: (String) -> AttemptResult = { _ in .outcome(.succeeded([:])) }) -> [String] {
        var order: [String] = []
        var ready = m.start(now: t0).ready
        while let step = ready.first {
            ready.removeFirst()
            let started = m.handle(.slotAcquired(step: step), now: t0)
            guard let execution = started.execute.first else { continue }
            order.append(step)
            ready += started.ready
            let ended = m.handle(.attemptEnded(step: step, attempt: execution.attempt, outcome(step)), now: t0)
            ready += ended.ready
        }
        return order
    }

    @Test func stepsRunInDependencyOrderAndIndependentOnesAreReadyTogether() {
        var m = machine([log("a"), log("b", needs: ["a"]), log("c", needs: ["a"]), log("d", needs: ["b", "c"])])
        let first = m.start(now: t0)
        #expect(first.ready == ["a"])
        // Only what changed is committed: the new jobs were stored pending when the run was created.
        #expect(first.jobs.map(\.step) == ["a"] && first.jobs.map(\.state) == [.ready])
        let a = m.handle(.slotAcquired(step: "a"), now: t0)
        #expect(a.jobs.map(\.state) == [.running])
        let done = m.handle(.attemptEnded(step: "a", attempt: 1, .outcome(.succeeded([:]))), now: t0)
        #expect(Set(done.ready) == ["b", "c"])
        #expect(runToEndFrom(&m, ready: done.ready) == ["b", "c", "d"])
        #expect(m.run.state == .succeeded && m.run.progress == 100)
    }

    func runToEndFrom(_ m: inout RunStateMachine, ready: [String]) -> [String] {
        var ready = ready
        var order: [String] = []
        while let step = ready.first {
            ready.removeFirst()
            let started = m.handle(.slotAcquired(step: step), now: t0)
            guard let execution = started.execute.first else { continue }
            order.append(step)
            ready += m.handle(.attemptEnded(step: step, attempt: execution.attempt, .outcome(.succeeded([:]))), now: t0).ready
        }
        return order
    }

    @Test func argumentsResolveParametersMachineAndOutputs() {
        var m = machine(
            [
                StepSpec(id: "a", action: "log", arguments: ["message": .string("a")]),
                log("b", needs: ["a"], message: "${params.image} on ${machine.hostname} after ${steps.a.outputs.message} in ${run.id}"),
            ],
            parameters: [ParameterSpec(name: "image", type: .string, defaultValue: .string("debian"), location: .init(file: "f", line: 1, column: 1))])
        _ = m.start(now: t0)
        _ = m.handle(.slotAcquired(step: "a"), now: t0)
        _ = m.handle(.attemptEnded(step: "a", attempt: 1, .outcome(.succeeded(["message": .string("A")]))), now: t0)
        let b = m.handle(.slotAcquired(step: "b"), now: t0)
        #expect(b.execute.first?.arguments["message"] == .string("debian on node1 after A in r"))
    }

    @Test func failedAttemptsRetryWithGrowingBackoffThenFailTheRun() {
        var step = StepSpec(id: "flaky", action: "fail")
        step.retry = RetryPolicy(attempts: 3, backoff: .seconds(10), factor: 2, maxBackoff: .seconds(15))
        var m = machine([step, log("after", needs: ["flaky"])])
        _ = m.start(now: t0)
        var now = t0
        var delays: [TimeInterval] = []
        for attempt in 1...3 {
            _ = m.handle(.slotAcquired(step: "flaky"), now: now)
            let failed = m.handle(.attemptEnded(step: "flaky", attempt: attempt, .failed("boom \(attempt)")), now: now)
            if let timer = failed.timers.first {
                delays.append(timer.at.timeIntervalSince(now))
                now = timer.at
                #expect(m.handle(.timerFired(step: "flaky", attempt: attempt), now: now).ready == ["flaky"])
            }
        }
        #expect(delays == [10, 15])
        #expect(m.jobs["flaky"]?.state == .failed && m.jobs["flaky"]?.error == "boom 3")
        #expect(m.jobs["after"]?.state == .cancelled)
        #expect(m.run.state == .failed && m.run.error == "step 'flaky' failed: boom 3")
    }

    @Test func aStepThatRunsPastItsTimeoutIsAbandonedAndTimedOut() {
        var step = log("slow")
        step.timeout = .seconds(30)
        var m = machine([step])
        _ = m.start(now: t0)
        let started = m.handle(.slotAcquired(step: "slow"), now: t0)
        #expect(started.timers.map(\.at) == [t0.addingTimeInterval(30)])
        let fired = m.handle(.timerFired(step: "slow", attempt: 1), now: t0.addingTimeInterval(30))
        #expect(fired.abandon == ["slow"])
        #expect(m.jobs["slow"]?.state == .timedOut)
        // The abandoned attempt's late answer changes nothing.
        #expect(m.handle(.attemptEnded(step: "slow", attempt: 1, .outcome(.succeeded([:]))), now: t0).isEmpty)
        #expect(m.run.state == .failed)
    }

    @Test func falseConditionsSkipAndDependentsStillRun() {
        var m = machine(
            [log("maybe", when: "${params.wipe} == true"), log("next", needs: ["maybe"])],
            parameters: [ParameterSpec(name: "wipe", type: .bool, defaultValue: .bool(false), location: .init(file: "f", line: 1, column: 1))])
        #expect(runToEnd(&m) == ["next"])
        #expect(m.jobs["maybe"]?.state == .skipped)
        #expect(m.run.state == .succeeded)
    }

    @Test func continueOnFailureLetsDependentsRun() {
        var bad = StepSpec(id: "bad", action: "fail")
        bad.onFailure = .continue
        var m = machine([bad, log("next", needs: ["bad"])])
        #expect(runToEnd(&m) { $0 == "bad" ? .failed("nope") : .outcome(.succeeded([:])) } == ["bad", "next"])
        #expect(m.run.state == .succeeded)
        #expect(m.jobs["bad"]?.state == .failed)
    }

    @Test func compensationRunsAfterAFailureAndTheRunStillFails() {
        var bad = StepSpec(id: "bad", action: "fail")
        bad.onFailure = .compensate(["undo1", "undo2"])
        var m = machine([log("first"), bad, log("undo1"), log("undo2", needs: ["undo1"]), log("never", needs: ["bad"])])
        let order = runToEnd(&m) { $0 == "bad" ? .failed("disk on fire") : .outcome(.succeeded([:])) }
        #expect(order == ["first", "bad", "undo1", "undo2"])
        #expect(m.run.state == .failed && m.run.error == "step 'bad' failed: disk on fire")
        #expect(m.jobs["never"]?.state == .cancelled)
    }

    @Test func compensationIsSkippedWhenNothingFails() {
        var step = log("work")
        step.onFailure = .compensate(["undo"])
        var m = machine([step, log("undo")])
        #expect(runToEnd(&m) == ["work"])
        #expect(m.run.state == .succeeded && m.jobs["undo"]?.state == .skipped)
    }

    @Test func cancellationStopsEverythingAndAbandonsRunningAttempts() {
        var m = machine([log("a"), log("b"), log("c", needs: ["a"])])
        _ = m.start(now: t0)
        _ = m.handle(.slotAcquired(step: "a"), now: t0)
        let cancelled = m.handle(.cancel(reason: "operator"), now: t0)
        #expect(cancelled.abandon == ["a"])
        #expect(cancelled.finished)
        #expect(m.jobs.values.allSatisfy { $0.state == .cancelled })
        #expect(m.run.state == .cancelled && m.run.error == "operator")
    }

    /// An event from before the attempt began (heard again from the store's watch, say) does not
    /// satisfy the wait; one from the same microsecond on does.
    @Test func aWaitTakesOnlyEventsFromItsAttemptOn() {
        var m = machine([StepSpec(id: "boot", action: "wait-event", arguments: ["type": .string("machine.booted")])])
        let began = t0.addingTimeInterval(10)
        _ = m.start(now: began)
        _ = m.handle(.slotAcquired(step: "boot"), now: began)
        _ = m.handle(.attemptEnded(step: "boot", attempt: 1, .outcome(.wait(.event(type: "machine.booted", machine: nil, deadline: nil)))), now: began)
        let before = Event(type: "machine.booted", time: began.addingTimeInterval(-0.001))
        #expect(!m.awaits(before))
        _ = m.handle(.event(before), now: began)
        #expect(m.jobs["boot"]?.state == .waiting)
        let at = Event(type: "machine.booted", time: began)
        #expect(m.awaits(at))
        _ = m.handle(.event(at), now: began)
        #expect(m.jobs["boot"]?.state == .succeeded && m.jobs["boot"]?.outputs["event"] == .string(at.id))
    }

    @Test func waitingForAnEventSucceedsWithTheEventsDataOrTimesOut() {
        var m = machine([StepSpec(id: "boot", action: "wait-event", arguments: ["type": .string("machine.booted")])])
        _ = m.start(now: t0)
        _ = m.handle(.slotAcquired(step: "boot"), now: t0)
        let deadline = t0.addingTimeInterval(600)
        let waiting = m.handle(.attemptEnded(step: "boot", attempt: 1, .outcome(.wait(.event(type: "machine.booted", machine: "m1", deadline: deadline)))), now: t0)
        #expect(waiting.awaitingEvents && waiting.timers.map(\.at) == [deadline])
        var other = Event(type: "machine.booted", machine: "m2", time: t0)
        other.id = "e0"
        #expect(!m.awaits(other))
        var event = Event(type: "machine.booted", machine: "m1", time: t0, data: ["ip": "10.0.0.5"])
        event.id = "e1"
        #expect(m.awaits(event))
        _ = m.handle(.event(event), now: t0)
        #expect(m.jobs["boot"]?.outputs == ["event": .string("e1"), "ip": .string("10.0.0.5")])
        #expect(m.run.state == .succeeded)

        var late = machine([StepSpec(id: "boot", action: "wait-event", arguments: ["type": .string("machine.booted")])])
        _ = late.start(now: t0)
        _ = late.handle(.slotAcquired(step: "boot"), now: t0)
        _ = late.handle(.attemptEnded(step: "boot", attempt: 1, .outcome(.wait(.event(type: "machine.booted", machine: "m1", deadline: deadline)))), now: t0)
        _ = late.handle(.timerFired(step: "boot", attempt: 1), now: deadline)
        #expect(late.jobs["boot"]?.state == .timedOut && late.run.state == .failed)
    }

    @Test func resumeRetriesFailedStepsAndKeepsWhatSucceeded() {
        var m = machine([log("a"), StepSpec(id: "b", action: "fail", needs: ["a"]), log("c", needs: ["b"])])
        _ = runToEnd(&m) { $0 == "b" ? .failed("first time") : .outcome(.succeeded(["done": .bool(true)])) }
        #expect(m.run.state == .failed)
        let resumed = m.handle(.resume, now: t0)
        #expect(resumed.ready == ["b"])
        #expect(m.jobs["a"]?.state == .succeeded && m.jobs["a"]?.outputs == ["done": .bool(true)])
        #expect(runToEndFrom(&m, ready: resumed.ready) == ["b", "c"])
        #expect(m.run.state == .succeeded)
    }

    @Test func aReloadedRunningStepCountsAsAFailedAttemptAndRetries() {
        var step = log("a")
        step.retry = RetryPolicy(attempts: 2, backoff: .seconds(1))
        var m = machine([step])
        _ = m.start(now: t0)
        _ = m.handle(.slotAcquired(step: "a"), now: t0)
        // Reload from the persisted records, as after a crash.
        var reloaded = RunStateMachine(spec: m.spec, run: m.run, jobs: Array(m.jobs.values), machine: [:], actions: .core)
        let decision = reloaded.start(now: t0)
        #expect(reloaded.jobs["a"]?.state == .ready)
        #expect(reloaded.jobs["a"]?.error == "interrupted: the appliance restarted during this attempt")
        #expect(decision.timers.count == 1)
    }

    @Test func theRunTimesOutAsAWhole() {
        var m = machine([log("a")])
        _ = m.start(now: t0)
        let decision = m.handle(.runDeadline, now: t0)
        #expect(decision.finished && m.run.state == .timedOut)
    }
}
