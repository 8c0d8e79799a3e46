import Foundation
import Logging
import OSIS
import Synchronization

/// Drives one run: a task that owns the run's state machine as a local value, feeds it inputs one at a
/// time, and carries out its decisions (commit first, then run steps, set timers, abandon attempts).
final class RunDriver: Sendable {
    private enum Message: Sendable {
        case input(RunInput)
        case slot(step: String, SlotLease)
    }

    /// A step attempt under way: its task and the worker slots it holds.
    private struct Attempt {
        var number: Int
        var task: Task<Void, Never>?
        var lease: SlotLease?

        func end() {
            task?.cancel()
            lease?.release()
        }
    }

    private let engine: WorkflowEngine
    private let initial: RunStateMachine
    private let runID: String
    private let mailbox: AsyncStream<Message>
    private let continuation: AsyncStream<Message>.Continuation
    private let task = Mutex<Task<Void, Never>?>(nil)
    /// Event types some waiting step of this run wants, so the engine routes only those here.
    private let eventTypes = Mutex<Set<String>>([])

    init(engine: WorkflowEngine, machine: RunStateMachine) {
        self.engine = engine
        self.initial = machine
        self.runID = machine.run.id
        (mailbox, continuation) = AsyncStream.makeStream(of: Message.self)
        // A reloaded run may already wait for events: route them here from the moment the driver is
        // registered, before its loop first runs (the mailbox keeps them until then).
        eventTypes.withLock { types in
            types = Set(machine.jobs.values.compactMap { $0.state == .waiting ? $0.waitingFor?.eventType : nil })
        }
    }

    func launch(first: RunInput?) {
        task.withLock { $0 = Task { await self.drive(first: first) } }
    }

    func send(_ input: RunInput) { continuation.yield(.input(input)) }

    func awaits(_ type: String) -> Bool { eventTypes.withLock { $0.contains(type) } }

    var awaitsAnyEvent: Bool { eventTypes.withLock { !$0.isEmpty } }

    func stop() {
        continuation.finish()
        task.withLock { $0?.cancel() }
    }

    private func drive(first: RunInput?) async {
        await driveUntilItStops(first: first)
        // However the run stopped here (finished, its claim lost, the engine shut down), worker slots
        // granted to it meanwhile go back to the pool: a slot granted after this is refused by the closed
        // mailbox and released by its grantor; one already in the mailbox is released here. Dropping
        // them instead leaked one worker each, and a benchmark whose lease lapsed ran out of workers.
        continuation.finish()
        for await message in mailbox {
            if case .slot(_, let lease) = message { lease.release() }
        }
    }

    private func driveUntilItStops(first: RunInput?) async {
        var machine = initial
        var attempts: [String: Attempt] = [:]
        var timers: [Task<Void, Never>] = []
        defer {
            for attempt in attempts.values { attempt.end() }
            for timer in timers { timer.cancel() }
        }
        if let timeout = machine.spec.timeout {
            timers.append(timer(at: machine.run.startedAt.addingTimeInterval(timeout.timeInterval), .runDeadline))
        }
        var decision = machine.start(now: engine.clock.now())
        if let first {
            let more = machine.handle(first, now: engine.clock.now())
            decision = merge(decision, more)
        }
        // Steps that were already waiting when this driver took the run (after a restart, or from a node
        // that died) hear what happened meanwhile before their deadlines are looked at.
        var lookedUp: Set<String> = []
        for event in await eventsMissed(by: machine, lookedUp: &lookedUp) {
            decision = merge(decision, machine.handle(.event(event), now: engine.clock.now()))
        }
        guard await carryOut(decision, machine: machine, attempts: &attempts, timers: &timers) else { return }
        // A reloaded run can end at once (a step interrupted by a restart, with no retries left).
        if decision.finished { return finish(machine.run, attempts: &attempts) }
        // A child run may have finished while this run was not driven (e.g. across a restart).
        for child in machine.awaitedRuns {
            if let run = try? await engine.objects.get(Run.self, id: child)?.object, run.state.isFinal {
                send(.event(Event.finished(run, now: engine.clock.now())))
            }
        }
        for await message in mailbox {
            switch message {
            case .slot(let step, let lease):
                guard machine.jobs[step]?.state == .ready else {
                    lease.release()
                    continue
                }
                decision = machine.handle(.slotAcquired(step: step), now: engine.clock.now())
                if let execution = decision.execute.first(where: { $0.step == step }) {
                    attempts[step] = Attempt(number: execution.attempt, task: nil, lease: lease)
                } else {
                    lease.release()
                }
            case .input(let input):
                if case .attemptEnded(let step, let number, _) = input, attempts[step]?.number == number {
                    attempts.removeValue(forKey: step)?.lease?.release()
                }
                decision = machine.handle(input, now: engine.clock.now())
            }
            guard await carryOut(decision, machine: machine, attempts: &attempts, timers: &timers) else { return }
            for event in await eventsMissed(by: machine, lookedUp: &lookedUp) { send(.event(event)) }
            if decision.finished { return finish(machine.run, attempts: &attempts) }
        }
    }

    /// The run's end is committed: stop what still runs for it and tell the engine (and its waiters).
    private func finish(_ run: Run, attempts: inout [String: Attempt]) {
        for attempt in attempts.values { attempt.end() }
        attempts = [:]
        engine.finished(run)
        continuation.finish()
    }

    /// Commits the decision's records, then acts on it. Returns false if the driver must stop.
    private func carryOut(
        _ decision: RunDecision, machine: RunStateMachine, attempts: inout [String: Attempt],
        timers: inout [Task<Void, Never>]
    ) async -> Bool {
        guard await commit(decision) else { return false }
        for step in decision.abandon {
            attempts.removeValue(forKey: step)?.end()
        }
        for step in decision.ready {
            let semaphores = [engine.workers] + (machine.jobs[step].flatMap { engine.actionLimits[$0.action] }.map { [$0] } ?? [])
            let continuation = self.continuation
            Task {
                let lease = await SlotLease.acquire(semaphores)
                if case .terminated = continuation.yield(.slot(step: step, lease)) { lease.release() }
            }
        }
        for execution in decision.execute {
            attempts[execution.step, default: Attempt(number: execution.attempt)].task = run(execution, machine: machine)
        }
        for (step, attempt, date) in decision.timers {
            timers.append(timer(at: date, .timerFired(step: step, attempt: attempt)))
        }
        timers.removeAll { $0.isCancelled }
        let waiting = Set(machine.jobs.values.compactMap { job -> String? in
            job.state == .waiting ? job.waitingFor?.eventType : nil
        })
        eventTypes.withLock { $0 = waiting }
        return true
    }

    /// Writes the changed records in one transaction, retrying while the store is unavailable: nothing
    /// may happen before the state that explains it is durable.
    private func commit(_ decision: RunDecision) async -> Bool {
        var writes: [ObjectWrite] = []
        do {
            writes = try decision.jobs.map { try ObjectWrite.put($0) } + (decision.run.map { [try ObjectWrite.put($0)] } ?? [])
            // The run's end releases its claim and records its run.finished event in the same commit.
            if decision.finished, let run = decision.run {
                writes.append(engine.claims.releaseWrite(runID))
                writes.append(try ObjectWrite.put(Event.finished(run, now: engine.clock.now())))
            }
        } catch {
            engine.logger.error("workflow: cannot encode run \(runID): \(error)")
            return false
        }
        guard !writes.isEmpty else { return true }
        var delay = Duration.milliseconds(50)
        var reclaimed = false
        while !Task.isCancelled {
            do {
                _ = try await engine.objects.commit(writes, requiring: [engine.claims.fence(runID)])
                return true
            } catch {
                // A stopped driver claims nothing: the engine is shutting down, or its run went elsewhere.
                guard !Task.isCancelled else { return false }
                // The fence failed or the store is unavailable. A claim that vanished with a lapsed lease
                // (this node stalled, or its keep-alive was late) is taken again if nobody else took it,
                // and the commit retried; a claim another node holds ends this driver.
                switch try? await engine.claims.claim(runID) {
                case true? where !reclaimed:
                    reclaimed = true
                    continue
                case false?:
                    engine.lostClaim(runID, driver: self)
                    return false
                default: break
                }
                engine.logger.warning("workflow: run \(runID): cannot record state, retrying: \(error)")
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return false
    }

    /// Stored events that steps waiting since `lookedUp` last saw them may have missed: those published
    /// after the step's attempt began but before this driver listened for their type (in the instant
    /// between, or while the run was not driven at all). Each wait is looked up once, after the commit
    /// that made it wait and after `eventTypes` routes its type here, so an event is either found here or
    /// routed; finding it twice is harmless, as only a waiting step takes it.
    private func eventsMissed(by machine: RunStateMachine, lookedUp: inout Set<String>) async -> [Event] {
        var since: Date?
        for job in machine.jobs.values where job.state == .waiting {
            guard case .event? = job.waitingFor, lookedUp.insert("\(job.step)#\(job.attempt)").inserted else { continue }
            let began = job.startedAt ?? job.updatedAt
            since = min(since ?? began, began)
        }
        guard let since else { return [] }
        var missed: [Event] = []
        var after = Event.idFloor(since)
        do {
            while true {
                let page = try await engine.objects.list(Event.self, after: after, limit: 500)
                missed += page.items.map(\.object).filter { machine.awaits($0) }
                guard page.more, let last = page.items.last else { return missed }
                after = last.object.id
            }
        } catch {
            engine.logger.warning("workflow: run \(runID): cannot look up events its waiting steps missed: \(error)")
            return missed
        }
    }

    private func run(_ execution: StepExecution, machine: RunStateMachine) -> Task<Void, Never> {
        let engine = self.engine
        let continuation = self.continuation
        var context = StepContext(
            runID: runID, stepID: execution.step, attempt: execution.attempt, workflow: machine.run.workflow,
            machine: machine.run.machine, arguments: execution.arguments, logger: engine.logger, now: engine.clock.now(),
            log: { [runID] line in
                _ = try? await engine.objects.put(
                    Event(type: "job.log", machine: machine.run.machine, run: runID, time: engine.clock.now(), message: "\(execution.step): \(line)"))
            })
        if let action = engine.actions[execution.action], type(of: action).isOrchestrating {
            let parent = runID
            let childID = "\(runID)-\(execution.step)"
            context = context.orchestrating(objects: engine.objects) { workflow, parameters in
                try await engine.startChild(workflow: workflow, parameters: parameters, machine: machine.run.machine, parent: parent, id: childID)
            }
        }
        return Task { [context] in
            let result: AttemptResult
            if let action = engine.actions[execution.action] {
                do {
                    result = .outcome(try await action.run(context))
                } catch {
                    result = .failed("\(error)")
                }
            } else {
                result = .failed("unknown action '\(execution.action)'")
            }
            guard !Task.isCancelled else { return }
            continuation.yield(.input(.attemptEnded(step: execution.step, attempt: execution.attempt, result)))
        }
    }

    private func timer(at date: Date, _ input: RunInput) -> Task<Void, Never> {
        let clock = engine.clock
        let continuation = self.continuation
        return Task {
            do {
                try await clock.sleep(until: date)
                continuation.yield(.input(input))
            } catch {}
        }
    }

    private func merge(_ first: RunDecision, _ second: RunDecision) -> RunDecision {
        var merged = second
        var jobs = Dictionary(first.jobs.map { ($0.step, $0) }, uniquingKeysWith: { $1 })
        for job in second.jobs { jobs[job.step] = job }
        merged.jobs = jobs.values.sorted { $0.step < $1.step }
        merged.run = second.run ?? first.run
        merged.ready = first.ready.filter { step in !second.jobs.contains { $0.step == step && $0.state != .ready } } + second.ready
        merged.execute = first.execute + second.execute
        merged.timers = first.timers + second.timers
        merged.abandon = first.abandon + second.abandon
        return merged
    }
}
