import Foundation
public import Logging
public import OSIS
import Synchronization

/// Runs workflows: starts runs, drives each through its `RunStateMachine`, persists every transition
/// in OSIS before acting on it, routes events to waiting steps, and resumes every unfinished run after
/// a restart.
///
/// Semantics are at-least-once: a step attempt that was running when the process died is counted as a
/// failed attempt and retried under its policy, so actions must be idempotent (or check before acting).
public final class WorkflowEngine: Sendable {
    public let objects: ObjectStore
    public let catalog: WorkflowCatalog
    public let actions: ActionRegistry
    let clock: any WorkflowClock
    let logger: Logger
    let workers: AsyncSemaphore
    let actionLimits: [String: AsyncSemaphore]
    /// The machine's attributes for `${machine.…}`, looked up when a run starts or resumes.
    let machineAttributes: @Sendable (String) async -> [String: String]
    let claims: RunClaims
    private let drivers = Mutex<[String: RunDriver]>([:])
    private let finishWaiters = Mutex(FinishWaiters())
    private let eventWatch = Mutex<Task<Void, Never>?>(nil)

    public init(
        objects: ObjectStore, catalog: WorkflowCatalog, actions: ActionRegistry = .core, clock: any WorkflowClock = SystemWorkflowClock(),
        workers: Int = 64, node: String? = nil, claimTTL: Duration = .seconds(10), logger: Logger = Logger(label: "workflow"),
        machineAttributes: @escaping @Sendable (String) async -> [String: String] = { _ in [:] }
    ) {
        self.claims = RunClaims(kv: objects.kv, node: node ?? ProcessInfo.processInfo.hostName, ttl: claimTTL, logger: logger)
        self.objects = objects
        self.catalog = catalog
        self.actions = actions
        self.clock = clock
        self.logger = logger
        self.workers = AsyncSemaphore(workers)
        var limits: [String: AsyncSemaphore] = [:]
        for (name, action) in actions.actions {
            if let limit = type(of: action).concurrencyLimit { limits[name] = AsyncSemaphore(limit) }
        }
        self.actionLimits = limits
        self.machineAttributes = machineAttributes
    }

    /// Starts a run of the newest version of `workflow`. The run and all its jobs are durable before
    /// this returns.
    @discardableResult
    public func start(
        workflow: String, machine: String? = nil, parameters: [String: SpecValue] = [:], id: String? = nil
    ) async throws -> Run {
        guard let spec = catalog.spec(workflow) else { throw EngineError.unknownWorkflow(workflow) }
        let parameters = try Self.checked(parameters, against: spec)
        let now = clock.now()
        let run = Run(
            id: id ?? Self.makeRunID(now), workflow: spec.name, workflowVersion: spec.version, machine: machine,
            parameters: parameters, startedAt: now)
        let jobs = RunStateMachine.newJobs(for: spec, runID: run.id, now: now)
        _ = try await objects.commit([try .create(run), try await claims.claimWrite(run.id)] + jobs.map { try ObjectWrite.put($0) })
        await launch(spec: spec, run: run, jobs: jobs)
        return run
    }

    public func cancel(_ runID: String, reason: String = "cancelled by the operator") async throws {
        guard let driver = drivers.withLock({ $0[runID] }) else { throw EngineError.notActive(runID) }
        driver.send(.cancel(reason: reason))
    }

    /// Retries a failed, cancelled or timed-out run from the steps that did not succeed.
    public func resume(_ runID: String) async throws {
        if let driver = drivers.withLock({ $0[runID] }) {
            driver.send(.resume)
            return
        }
        guard let stored = try await objects.get(Run.self, id: runID) else { throw EngineError.unknownRun(runID) }
        guard stored.object.state.isFinal, stored.object.state != .succeeded else { throw EngineError.notResumable(runID, stored.object.state) }
        // Its end released the claim: take it again, so that only this node drives the resumed run.
        guard try await claims.claim(runID) else { throw EngineError.claimedElsewhere(runID) }
        try await relaunch(stored.object, input: .resume)
    }

    /// Records an event and wakes the steps waiting for it.
    public func publish(_ event: Event) async throws {
        try await objects.put(event)
        route(event)
    }

    /// Records several events in one commit (one fsync for all of them), then wakes the steps waiting
    /// for each: for high-rate sources such as the DHCP boot trace.
    public func publish(_ events: [Event]) async throws {
        guard !events.isEmpty else { return }
        _ = try await objects.commit(try events.map { event throws(OSISError) in try ObjectWrite.put(event) })
        for event in events { route(event) }
    }

    /// Records `event` in the same commit as `writes` (all or nothing), then wakes the steps waiting for
    /// it: a change and the event that announces it cannot be separated by a crash, and cost one commit.
    /// Returns the commit's revision; a failed compare in `writes` throws `.conflict` and records nothing.
    public func publish(_ event: Event, alongside writes: [ObjectWrite]) async throws(OSISError) -> Int64 {
        let revision = try await objects.commit(writes + [try ObjectWrite.put(event)])
        route(event)
        return revision
    }

    /// Hands an event to the runs waiting for its type.
    func route(_ event: Event) {
        let active = drivers.withLock { Array($0.values) }
        for driver in active where driver.awaits(event.type) { driver.send(.event(event)) }
    }

    /// Picks up every unfinished run this node may drive (unclaimed, or claimed by this node before a
    /// restart), and from then on takes over the runs of nodes that die. Call once at start-up.
    @discardableResult
    public func recover() async throws -> Int {
        try await claims.watchOrphans { [weak self] runID in await self?.adopt(runID) }
        try await followEvents()
        var recovered = 0
        for stored in try await objects.all(Run.self) where !stored.object.state.isFinal {
            if try await adoptRun(stored.object) { recovered += 1 }
        }
        if recovered > 0 { logger.info("workflow: resumed \(recovered) unfinished run(s)") }
        return recovered
    }

    /// Routes the events any node stores (a DHCP exchange answered by another appliance, an agent's
    /// report that reached another node) to the runs this node drives. This node's own publishes are
    /// routed at once as well; hearing an event twice is harmless (`RunStateMachine.takes`).
    private func followEvents() async throws {
        var after = try await objects.kv.currentRevision()
        let prefix = ObjectStore.key(kind: Event.kind, id: "")
        let task = Task { [weak self, objects, logger] in
            while !Task.isCancelled {
                do {
                    for try await batch in objects.kv.watch(prefix: prefix, after: after) {
                        guard let self else { return }
                        after = batch.last?.keyValue.modRevision ?? after
                        // Decoding is the cost: skip it while nothing here waits for an event.
                        guard self.drivers.withLock({ $0.values.contains(where: \.awaitsAnyEvent) }) else { continue }
                        for change in batch where change.kind == .put {
                            if let event = try? objects.decode(Event.self, change.keyValue).object { self.route(event) }
                        }
                    }
                    return
                } catch is CancellationError {
                    return
                } catch {
                    // Compacted past `after`, or the store went away: carry on from now. A wait that
                    // misses an event meanwhile finds it when its run is next taken up.
                    logger.error("workflow: event watch ended (\(error)); following again from the current revision")
                    try? await Task.sleep(for: .seconds(1))
                    after = (try? await objects.kv.currentRevision()) ?? after
                }
            }
        }
        eventWatch.withLock { $0 = task }
    }

    /// A run whose claim vanished: drive it here if it is unfinished and nobody else claimed it first.
    private func adopt(_ runID: String) async {
        guard let run = try? await objects.get(Run.self, id: runID)?.object, !run.state.isFinal else { return }
        do {
            if try await adoptRun(run) { logger.notice("workflow: took over run \(runID) from a node that stopped") }
        } catch {
            logger.error("workflow: cannot take over run \(runID): \(error)")
        }
    }

    /// A driver's commit found the run claimed by another node (this node's lease lapsed and the other
    /// took the run over): that driver stops, having changed nothing, and leaves the run to that node.
    func lostClaim(_ runID: String, driver: RunDriver) {
        let removed = drivers.withLock { drivers in
            guard drivers[runID] === driver else { return false }
            drivers[runID] = nil
            return true
        }
        guard removed else { return }
        logger.warning("workflow: run \(runID) is now driven by another node; node \(claims.node) stops driving it")
        // Its waiters follow the run in the store from now on.
        for waiter in finishWaiters.withLock({ $0.removeAll(runID) }) { waiter.resume(returning: nil) }
    }

    private func adoptRun(_ run: Run) async throws -> Bool {
        guard drivers.withLock({ $0[run.id] == nil }), try await claims.claim(run.id) else { return false }
        try await relaunch(run, input: nil)
        return true
    }

    /// Waits until the run reaches a final state and returns it, wherever it is driven: here, or on
    /// another node sharing the store (then, or once this node stops driving it, the store is followed).
    /// Cancelling the waiting task ends the wait with `CancellationError` (the run goes on).
    public func waitUntilFinished(_ runID: String) async throws -> Run {
        let token = finishWaiters.withLock { $0.newToken() }
        let finished: Run? = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let registered = drivers.withLock { drivers -> Bool in
                    guard drivers[runID] != nil else { return false }
                    // Checked under the waiters' lock, which the cancellation handler also takes: either
                    // the handler finds this continuation, or this sees the cancellation.
                    return finishWaiters.withLock { waiters in
                        guard !Task.isCancelled else { return false }
                        waiters.add(continuation, for: runID, token: token)
                        return true
                    }
                }
                if !registered { continuation.resume(returning: nil) }
            }
        } onCancel: {
            finishWaiters.withLock { $0.remove(runID, token: token) }?.resume(throwing: CancellationError())
        }
        if let finished { return finished }
        try Task.checkCancellation()
        // Not driven here, or no longer (it ended between the two looks, or another node took it over).
        return try await followUntilFinished(runID)
    }

    /// The run's final state, read from the store and then from its changes as they are committed.
    private func followUntilFinished(_ runID: String) async throws -> Run {
        let key = ObjectStore.key(kind: Run.kind, id: runID)
        // The revision first, then the run: no change after the read escapes the watch.
        let after = try await objects.kv.currentRevision()
        guard let stored = try await objects.get(Run.self, id: runID) else { throw EngineError.unknownRun(runID) }
        if stored.object.state.isFinal { return stored.object }
        for try await batch in objects.kv.watch(prefix: key, after: after) {
            for change in batch where change.keyValue.key == key {
                guard change.kind == .put else { throw EngineError.unknownRun(runID) }
                let run = try objects.decode(Run.self, change.keyValue).object
                if run.state.isFinal { return run }
            }
        }
        try Task.checkCancellation()
        throw OSISError.store(.closed)
    }

    /// Whether a caller of `waitUntilFinished` waits here for this run's driver.
    func hasWaiters(_ runID: String) -> Bool { finishWaiters.withLock { $0.waits(for: runID) } }

    /// Runs currently driven by this engine.
    public var activeRuns: Int { drivers.withLock { $0.count } }

    /// Stops driving every run (their state stays in the store, for `recover()` after a restart).
    public func shutdown() {
        claims.stop()
        eventWatch.withLock { $0?.cancel() }
        let all = drivers.withLock { drivers in
            defer { drivers = [:] }
            return Array(drivers.values)
        }
        for driver in all { driver.stop() }
    }

    // MARK: - Internals

    private func relaunch(_ run: Run, input: RunInput?) async throws {
        guard let spec = catalog.spec(run.workflow, version: run.workflowVersion) else {
            var failed = run
            failed.state = .failed
            failed.error = "workflow \(run.workflow) version \(run.workflowVersion) is no longer in the catalog"
            failed.finishedAt = clock.now()
            _ = try await objects.commit([try .put(failed), claims.releaseWrite(run.id)])
            return
        }
        let jobs = try await objects.all(Job.self, idPrefix: run.id + ".").map(\.object)
        await launch(spec: spec, run: run, jobs: jobs, first: input)
    }

    private func launch(spec: WorkflowSpec, run: Run, jobs: [Job], first: RunInput? = nil) async {
        var attributes: [String: String] = [:]
        if let machine = run.machine {
            attributes = await machineAttributes(machine)
            attributes["mac"] = attributes["mac"] ?? machine
        }
        let machine = RunStateMachine(spec: spec, run: run, jobs: jobs, machine: attributes, actions: actions)
        let driver = RunDriver(engine: self, machine: machine)
        drivers.withLock { $0[run.id] = driver }
        driver.launch(first: first)
    }

    func finished(_ run: Run) {
        drivers.withLock { _ = $0.removeValue(forKey: run.id) }
        for waiter in finishWaiters.withLock({ $0.removeAll(run.id) }) { waiter.resume(returning: run) }
        // A parent step waits for its child's end. The event is already stored (with the run's last
        // commit), so a parent restarted later finds the child finished; running parents hear it now.
        if run.parent != nil { route(Event.finished(run, now: clock.now())) }
    }

    /// Starts a child run for an orchestrating step, or returns the one it started before (so a retried
    /// or restarted step re-attaches instead of starting twice); a failed child is resumed.
    func startChild(workflow: String, parameters: [String: SpecValue], machine: String?, parent: String, id: String) async throws -> Run {
        if let existing = try await objects.get(Run.self, id: id)?.object {
            if existing.state.isFinal && existing.state != .succeeded { try await resume(id) }
            return existing
        }
        guard let spec = catalog.spec(workflow) else { throw EngineError.unknownWorkflow(workflow) }
        let checked = try Self.checked(parameters, against: spec)
        let now = clock.now()
        var run = Run(id: id, workflow: spec.name, workflowVersion: spec.version, machine: machine, parameters: checked, startedAt: now)
        run.parent = parent
        let jobs = RunStateMachine.newJobs(for: spec, runID: id, now: now)
        _ = try await objects.commit([try .create(run), try await claims.claimWrite(id)] + jobs.map { try ObjectWrite.put($0) })
        await launch(spec: spec, run: run, jobs: jobs)
        return run
    }

    static func checked(_ parameters: [String: SpecValue], against spec: WorkflowSpec) throws -> [String: SpecValue] {
        var result: [String: SpecValue] = [:]
        for (name, value) in parameters {
            guard let declared = spec.parameters.first(where: { $0.name == name }) else {
                throw EngineError.badParameter("'\(name)' is not a parameter of \(spec.name)")
            }
            if value.type == declared.type {
                result[name] = value
            } else if let converted = SpecValue.parse(value.description, as: declared.type) {
                result[name] = converted
            } else {
                throw EngineError.badParameter("'\(name)' must be \(declared.type.rawValue), got '\(value)'")
            }
        }
        for declared in spec.parameters where declared.isRequired && result[declared.name] == nil {
            throw EngineError.badParameter("missing required parameter '\(declared.name)' (\(declared.type.rawValue))")
        }
        return result
    }

    static func makeRunID(_ now: Date) -> String {
        "run-" + Event.makeID(now)
    }
}

public enum EngineError: Error, Sendable, CustomStringConvertible {
    case unknownWorkflow(String)
    case unknownRun(String)
    case notActive(String)
    case notResumable(String, JobState)
    case badParameter(String)
    case claimedElsewhere(String)

    public var description: String {
        switch self {
        case .unknownWorkflow(let name): return "no workflow named '\(name)'"
        case .unknownRun(let id): return "no run '\(id)'"
        case .notActive(let id): return "run '\(id)' is not running"
        case .notResumable(let id, let state): return "run '\(id)' is \(state.rawValue): only failed, cancelled or timed-out runs resume"
        case .badParameter(let why): return "bad parameter: \(why)"
        case .claimedElsewhere(let id): return "run '\(id)' is driven by another node"
        }
    }
}
