import Foundation
import Testing
import Workflow

/// Properties that hold for every DAG: a step starts only after all its needs finished, every step
/// runs exactly once when nothing fails, independent steps can run together, and a failure stops
/// everything downstream of it. Checked over random DAGs fed in random orders (seeded, reproducible).
@Suite struct RandomDAGTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A deterministic generator, so a failing seed can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Steps s0…sN-1 where each step needs a random subset of earlier ones (so it is acyclic).
    func randomSpec(_ rng: inout SplitMix, failing: Int? = nil) -> WorkflowSpec {
        let count = Int.random(in: 1...14, using: &rng)
        let steps = (0..<count).map { i -> StepSpec in
            let needs = (0..<i).filter { _ in Double.random(in: 0..<1, using: &rng) < 0.3 }.map { "s\($0)" }
            return StepSpec(id: "s\(i)", action: i == failing ? "fail" : "log", arguments: ["message": .string("s\(i)")], needs: needs)
        }
        return WorkflowSpec(name: "dag", steps: steps)
    }

    /// Drives the machine, completing a random one of the running steps each time.
    func drive(_ spec: WorkflowSpec, _ rng: inout SplitMix) -> (machine: RunStateMachine, order: [String], maxParallel: Int) {
        let run = Run(id: "r", workflow: "dag", workflowVersion: 1, machine: nil, parameters: [:], startedAt: t0)
        var m = RunStateMachine(spec: spec, run: run, jobs: RunStateMachine.newJobs(for: spec, runID: "r", now: t0), machine: [:], actions: .core)
        var ready = m.start(now: t0).ready
        var running: [StepExecution] = []
        var order: [String] = []
        var maxParallel = 0
        while !ready.isEmpty || !running.isEmpty {
            if !ready.isEmpty && (running.isEmpty || Bool.random(using: &rng)) {
                let step = ready.remove(at: Int.random(in: 0..<ready.count, using: &rng))
                let decision = m.handle(.slotAcquired(step: step), now: t0)
                running += decision.execute
                ready += decision.ready
                for execution in decision.execute {
                    // The property under test: everything this step needs has finished.
                    let needs = spec.step(execution.step)?.needs ?? []
                    #expect(needs.allSatisfy { m.jobs[$0]?.state == .succeeded }, "\(execution.step) started before its needs: \(spec.steps)")
                    order.append(execution.step)
                }
                maxParallel = max(maxParallel, running.count)
            } else {
                let execution = running.remove(at: Int.random(in: 0..<running.count, using: &rng))
                let result: AttemptResult = execution.action == "fail" ? .failed("planned") : .outcome(.succeeded([:]))
                ready += m.handle(.attemptEnded(step: execution.step, attempt: execution.attempt, result), now: t0).ready
            }
        }
        return (m, order, maxParallel)
    }

    @Test(arguments: 0..<200)
    func everyStepRunsOnceAfterItsNeeds(seed: Int) {
        var rng = SplitMix(state: UInt64(seed))
        let spec = randomSpec(&rng)
        let (m, order, _) = drive(spec, &rng)
        #expect(order.sorted() == spec.steps.map(\.id).sorted())
        #expect(m.run.state == .succeeded && m.run.progress == 100)
    }

    @Test(arguments: 0..<200)
    func aFailureStopsEverythingDownstream(seed: Int) {
        var rng = SplitMix(state: UInt64(seed) &+ 10_000)
        let probe = randomSpec(&rng)
        let failing = Int.random(in: 0..<probe.steps.count, using: &rng)
        var rng2 = SplitMix(state: UInt64(seed) &+ 10_000)
        let spec = randomSpec(&rng2, failing: failing)
        let (m, order, _) = drive(spec, &rng)
        let failed = "s\(failing)"
        #expect(m.run.state == .failed)
        #expect(m.jobs[failed]?.state == .failed)
        var downstream: Set<String> = []
        for step in spec.steps where step.needs.contains(where: { $0 == failed || downstream.contains($0) }) { downstream.insert(step.id) }
        #expect(downstream.isDisjoint(with: order), "\(downstream) ran after \(failed) failed")
        #expect(m.jobs.values.allSatisfy { $0.state.isFinal })
    }

    @Test func independentStepsRunTogether() {
        var rng = SplitMix(state: 42)
        let spec = WorkflowSpec(name: "wide", steps: (0..<10).map { StepSpec(id: "s\($0)", action: "log", arguments: ["message": .string("x")]) })
        let (_, order, maxParallel) = drive(spec, &rng)
        #expect(order.count == 10 && maxParallel > 1)
    }
}
