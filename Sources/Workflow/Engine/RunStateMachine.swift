public import Foundation

/// The life of one run as a pure state machine: fed inputs and the current time, it returns the
/// decisions the engine carries out. It never touches the store, a clock or a task, so every rule
/// (DAG order, retries, timeouts, conditions, compensation, cancellation) is testable from values.
public struct RunStateMachine: Sendable {
    public let spec: WorkflowSpec
    public private(set) var run: Run
    public private(set) var jobs: [String: Job]
    /// The machine's attributes, for `${machine.…}`.
    let machine: [String: String]
    let actions: ActionRegistry
    /// Set when a step's final failure (or compensation) means the run will fail once nothing runs.
    private var failure: String?
    private var changed: Set<String> = []

    public init(spec: WorkflowSpec, run: Run, jobs: [Job], machine: [String: String], actions: ActionRegistry) {
        self.spec = spec
        self.run = run
        self.jobs = Dictionary(jobs.map { ($0.step, $0) }, uniquingKeysWith: { $1 })
        self.machine = machine
        self.actions = actions
        if run.state == .running, let failed = jobs.first(where: { [.failed, .timedOut].contains($0.state) && spec.step($0.step)?.onFailure != .continue }) {
            failure = failed.error ?? "step '\(failed.step)' failed"
        }
    }

    /// The jobs of a new run, all pending.
    public static func newJobs(for spec: WorkflowSpec, runID: String, now: Date) -> [Job] {
        spec.steps.map { Job(run: runID, step: $0.id, action: $0.action, state: .pending, updatedAt: now) }
    }

    /// Decisions for a run just created or just reloaded after a restart.
    public mutating func start(now: Date) -> RunDecision {
        var decision = RunDecision()
        for (step, job) in jobs {
            switch job.state {
            case .running:
                // The process died mid-attempt: the attempt counts as failed and the retry policy decides.
                fail(step, attempt: job.attempt, "interrupted: the appliance restarted during this attempt", timedOut: false, now: now, &decision)
            case .ready:
                if case .until(let date)? = job.waitingFor {
                    decision.timers.append((step, job.attempt, date))
                } else {
                    decision.ready.append(step)
                }
            case .waiting:
                switch job.waitingFor {
                case .until(let date)?: decision.timers.append((step, job.attempt, date))
                case .event(_, _, let deadline?)?, .run(_, let deadline?)?:
                    decision.timers.append((step, job.attempt, deadline))
                    decision.awaitingEvents = true
                case .event?, .run?: decision.awaitingEvents = true
                case nil: break
                }
            default: break
            }
        }
        advance(now: now, &decision)
        return finish(now: now, decision)
    }

    public mutating func handle(_ input: RunInput, now: Date) -> RunDecision {
        var decision = RunDecision()
        guard !run.state.isFinal || input == .resume else { return decision }
        switch input {
        case .slotAcquired(let step):
            begin(step, now: now, &decision)
        case .attemptEnded(let step, let attempt, let result):
            guard let job = jobs[step], job.attempt == attempt, job.state == .running else { break }
            switch result {
            case .outcome(.succeeded(let outputs)): succeed(step, outputs: outputs, now: now)
            case .outcome(.wait(let condition)): wait(step, for: condition, now: now, &decision)
            case .failed(let message): fail(step, attempt: attempt, message, timedOut: false, now: now, &decision)
            }
        case .timerFired(let step, let attempt):
            timerFired(step, attempt: attempt, now: now, &decision)
        case .runDeadline:
            stopAll(state: .timedOut, reason: "the run exceeded its timeout", now: now, &decision)
        case .event(let event):
            for (step, job) in jobs where job.state == .waiting {
                switch job.waitingFor {
                case .event? where Self.takes(job, event):
                    var outputs: [String: SpecValue] = ["event": .string(event.id)]
                    for (key, value) in event.data { outputs[key] = .string(value) }
                    succeed(step, outputs: outputs, now: now)
                case .run(let id, _)? where event.type == Event.runFinished && event.run == id:
                    let state = event.data["state"] ?? "?"
                    if state == JobState.succeeded.rawValue {
                        succeed(step, outputs: ["run": .string(id), "state": .string(state)], now: now)
                    } else {
                        fail(step, attempt: job.attempt, "child run \(id) ended \(state)", timedOut: false, now: now, &decision)
                    }
                default:
                    continue
                }
            }
        case .cancel(let reason):
            stopAll(state: .cancelled, reason: reason, now: now, &decision)
        case .resume:
            resume(now: now)
        }
        advance(now: now, &decision)
        return finish(now: now, decision)
    }

    /// True when a job of this run waits for an event of `type`.
    public func awaits(_ event: Event) -> Bool {
        jobs.values.contains { job in
            guard job.state == .waiting else { return false }
            switch job.waitingFor {
            case .event?: return Self.takes(job, event)
            case .run(let id, _)?: return event.type == Event.runFinished && event.run == id
            default: return false
            }
        }
    }

    /// Whether `event` satisfies `job`'s wait for an event: its type, its machine if the wait names one,
    /// and not older than the attempt, so an event heard twice (routed at once, then again from the
    /// store's watch) cannot satisfy a later wait for the same type. Compared by id, which carries the
    /// event's time to the microsecond; stored dates keep whole seconds only.
    static func takes(_ job: Job, _ event: Event) -> Bool {
        guard case .event(let type, let machine, _)? = job.waitingFor, type == event.type else { return false }
        guard machine == nil || machine == event.machine else { return false }
        return job.startedAt.map { event.id >= Event.idFloor($0) } ?? true
    }

    /// Child runs that waiting steps of this run wait for.
    public var awaitedRuns: [String] {
        jobs.values.compactMap { job in
            if job.state == .waiting, case .run(let id, _)? = job.waitingFor { id } else { nil }
        }
    }

    // MARK: - Transitions

    private mutating func begin(_ step: String, now: Date, _ decision: inout RunDecision) {
        guard var job = jobs[step], job.state == .ready, let spec = spec.step(step) else { return }
        job.attempt += 1
        job.state = .running
        job.startedAt = now
        job.waitingFor = nil
        job.error = nil
        job.deadline = spec.timeout.map { now.addingTimeInterval($0.timeInterval) }
        update(job, now: now)
        do {
            let arguments = try resolveArguments(spec)
            decision.execute.append(StepExecution(step: step, attempt: job.attempt, action: spec.action, arguments: arguments))
            if let deadline = job.deadline { decision.timers.append((step, job.attempt, deadline)) }
        } catch {
            // Arguments that cannot be resolved now never will be: no retry.
            finalFailure(step, "\(error)", state: .failed, now: now, &decision)
        }
    }

    private mutating func succeed(_ step: String, outputs: [String: SpecValue], now: Date) {
        guard var job = jobs[step] else { return }
        job.state = .succeeded
        job.outputs = outputs
        job.waitingFor = nil
        job.deadline = nil
        update(job, now: now)
    }

    private mutating func wait(_ step: String, for condition: WaitCondition, now: Date, _ decision: inout RunDecision) {
        guard var job = jobs[step] else { return }
        job.state = .waiting
        job.waitingFor = condition
        update(job, now: now)
        switch condition {
        case .until(let date): decision.timers.append((step, job.attempt, date))
        case .event(_, _, let deadline), .run(_, let deadline):
            decision.awaitingEvents = true
            if let deadline { decision.timers.append((step, job.attempt, deadline)) }
        }
    }

    private mutating func timerFired(_ step: String, attempt: Int, now: Date, _ decision: inout RunDecision) {
        guard let job = jobs[step], job.attempt == attempt else { return }
        switch (job.state, job.waitingFor) {
        case (.ready, .until(let date)?) where date <= now:
            var ready = job
            ready.waitingFor = nil
            update(ready, now: now)
            decision.ready.append(step)
        case (.waiting, .until(let date)?) where date <= now:
            succeed(step, outputs: ["slept": .bool(true)], now: now)
        case (.waiting, .event(let type, _, let deadline?)?) where deadline <= now:
            fail(step, attempt: attempt, "no '\(type)' event before the deadline", timedOut: true, now: now, &decision)
        case (.waiting, .run(let id, let deadline?)?) where deadline <= now:
            fail(step, attempt: attempt, "child run \(id) did not finish before the deadline", timedOut: true, now: now, &decision)
        case (.running, _) where job.deadline.map { $0 <= now } == true:
            decision.abandon.append(step)
            fail(step, attempt: attempt, "attempt \(attempt) timed out", timedOut: true, now: now, &decision)
        default:
            break
        }
    }

    /// An attempt failed: retry after the backoff if tries are left, otherwise fail the step for good.
    private mutating func fail(_ step: String, attempt: Int, _ message: String, timedOut: Bool, now: Date, _ decision: inout RunDecision) {
        guard var job = jobs[step], let spec = spec.step(step) else { return }
        let tries = attempt - job.retryBase
        if tries < spec.retry.attempts && failure == nil {
            let notBefore = now.addingTimeInterval(spec.retry.delay(after: tries).timeInterval)
            job.state = .ready
            job.error = message
            job.waitingFor = .until(notBefore)
            job.deadline = nil
            update(job, now: now)
            decision.timers.append((step, attempt, notBefore))
        } else {
            finalFailure(step, message, state: timedOut ? .timedOut : .failed, now: now, &decision)
        }
    }

    private mutating func finalFailure(_ step: String, _ message: String, state: JobState, now: Date, _ decision: inout RunDecision) {
        guard var job = jobs[step], let stepSpec = spec.step(step) else { return }
        job.state = state
        job.error = message
        job.waitingFor = nil
        job.deadline = nil
        update(job, now: now)
        if job.compensating {
            failure = failure ?? "compensation step '\(step)' failed: \(message)"
            return
        }
        switch stepSpec.onFailure {
        case .continue:
            break
        case .failRun:
            failure = failure ?? "step '\(step)' failed: \(message)"
        case .compensate(let steps):
            failure = failure ?? "step '\(step)' failed: \(message)"
            for id in steps {
                guard var compensation = jobs[id], compensation.state == .pending else { continue }
                compensation.compensating = true
                update(compensation, now: now)
            }
        }
    }

    private mutating func stopAll(state: JobState, reason: String, now: Date, _ decision: inout RunDecision) {
        for (step, var job) in jobs where !job.state.isFinal {
            if job.state == .running { decision.abandon.append(step) }
            job.state = .cancelled
            job.error = reason
            job.waitingFor = nil
            update(job, now: now)
        }
        run.state = state
        run.error = reason
        run.finishedAt = now
        changed.insert("")
    }

    private mutating func resume(now: Date) {
        guard run.state.isFinal && run.state != .succeeded else { return }
        for (_, var job) in jobs where job.state != .succeeded && job.state != .skipped {
            job.state = .pending
            job.retryBase = job.attempt
            job.error = nil
            job.compensating = false
            job.waitingFor = nil
            update(job, now: now)
        }
        failure = nil
        run.state = .running
        run.error = nil
        run.finishedAt = nil
        changed.insert("")
    }

    /// Moves pending steps whose needs are met to ready (or skipped, if their condition is false).
    private mutating func advance(now: Date, _ decision: inout RunDecision) {
        guard run.state == .running else { return }
        let compensationOnly = spec.compensationSteps
        var progressed = true
        while progressed {
            progressed = false
            for step in spec.steps {
                guard var job = jobs[step.id], job.state == .pending else { continue }
                if compensationOnly.contains(step.id) && !job.compensating { continue }
                // Once the run is failing, only compensation starts.
                if failure != nil && !job.compensating { continue }
                let needs = step.needs.compactMap { jobs[$0] }
                guard needs.allSatisfy({ isSatisfied($0) }) else { continue }
                if let condition = step.condition, !((try? condition.evaluate(lookup)) ?? false) {
                    job.state = .skipped
                    update(job, now: now)
                    progressed = true
                    continue
                }
                job.state = .ready
                update(job, now: now)
                decision.ready.append(step.id)
            }
        }
    }

    private func isSatisfied(_ job: Job) -> Bool {
        switch job.state {
        case .succeeded, .skipped: return true
        case .failed, .timedOut: return spec.step(job.step)?.onFailure == .continue
        default: return false
        }
    }

    /// Completes the run when nothing can move any more, and gathers the changed records.
    private mutating func finish(now: Date, _ decision: RunDecision) -> RunDecision {
        var decision = decision
        if run.state == .running {
            let active = jobs.values.contains { [.ready, .running, .waiting].contains($0.state) }
            if !active {
                if let failure {
                    for (_, var job) in jobs where job.state == .pending {
                        job.state = .cancelled
                        job.error = "not run: the run failed"
                        update(job, now: now)
                    }
                    run.state = .failed
                    run.error = failure
                    run.finishedAt = now
                } else if !jobs.values.contains(where: { $0.state == .pending && !spec.compensationSteps.contains($0.step) }) {
                    for (_, var job) in jobs where job.state == .pending {
                        job.state = .skipped
                        update(job, now: now)
                    }
                    run.state = .succeeded
                    run.finishedAt = now
                }
                changed.insert("")
            }
        }
        let done = jobs.values.filter(\.state.isFinal).count
        let progress = jobs.isEmpty ? 100 : done * 100 / jobs.count
        if progress != run.progress {
            run.progress = progress
            changed.insert("")
        }
        decision.jobs = changed.compactMap { $0.isEmpty ? nil : jobs[$0] }.sorted { $0.step < $1.step }
        if changed.contains("") { decision.run = run }
        decision.finished = run.state.isFinal
        changed = []
        return decision
    }

    private mutating func update(_ job: Job, now: Date) {
        var job = job
        job.updatedAt = now
        jobs[job.step] = job
        changed.insert(job.step)
    }

    // MARK: - Templates

    private func resolveArguments(_ step: StepSpec) throws -> [String: SpecValue] {
        let declared = actions[step.action].map { type(of: $0).arguments } ?? []
        var result: [String: SpecValue] = [:]
        for (name, value) in step.arguments {
            var resolved = try resolve(value)
            if let type = declared.first(where: { $0.name == name })?.type, resolved.type != type {
                guard let converted = SpecValue.parse(resolved.description, as: type) else {
                    throw ActionError("argument '\(name)' must be \(type.rawValue), got '\(resolved)'")
                }
                resolved = converted
            }
            result[name] = resolved
        }
        return result
    }

    private func resolve(_ value: SpecValue) throws -> SpecValue {
        switch value {
        case .string(let text) where text.contains("${"): return try Template.parse(text).render(lookup)
        case .list(let values): return .list(try values.map(resolve))
        default: return value
        }
    }

    private func lookup(_ reference: Reference) throws(TemplateError) -> SpecValue {
        switch reference {
        case .parameter(let name):
            if let value = run.parameters[name] ?? spec.parameters.first(where: { $0.name == name })?.defaultValue { return value }
        case .machine(let field):
            if let value = machine[field] { return .string(value) }
        case .output(let step, let key):
            if let value = jobs[step]?.outputs[key] { return value }
        case .run(let field):
            return .string(field == "id" ? run.id : run.workflow)
        }
        throw .unresolved(reference)
    }
}
