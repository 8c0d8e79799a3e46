public import Foundation
public import Logging
public import OSIS

/// A step's action: what `action:` in a spec names. Actions declare their arguments so specs are checked
/// before they run, and they are idempotent where they can be, because the engine runs them at least
/// once: a step that was running when the appliance died runs again after the restart.
public protocol WorkflowAction: Sendable {
    /// The name specs use, e.g. `sleep`, `dhcp.reserve`.
    static var name: String { get }
    /// The arguments `with:` may give; anything else is rejected by validation.
    static var arguments: [ArgumentSpec] { get }
    /// Orchestrating actions may change OSIS objects and start child runs; leaf actions may not.
    static var isOrchestrating: Bool { get }
    /// At most this many steps with this action run at once across all runs (nil: only the engine's pool).
    static var concurrencyLimit: Int? { get }

    /// Performs the step. Throwing fails this attempt (the retry policy decides what follows).
    func run(_ context: StepContext) async throws -> StepOutcome
}

extension WorkflowAction {
    public static var isOrchestrating: Bool { false }
    public static var concurrencyLimit: Int? { nil }
}

/// One argument an action accepts.
public struct ArgumentSpec: Sendable, Hashable {
    public var name: String
    public var type: ValueType
    public var isRequired: Bool
    public var help: String

    public init(_ name: String, _ type: ValueType, required: Bool = false, help: String = "") {
        self.name = name
        self.type = type
        self.isRequired = required
        self.help = help
    }
}

/// How a step attempt ended, when it did not throw.
public enum StepOutcome: Sendable, Hashable {
    /// Done, with outputs later steps can reference as `${steps.ID.outputs.KEY}`.
    case succeeded([String: SpecValue])
    /// Not done until `wait` is satisfied; the job sits in `waiting` (durably) meanwhile.
    case wait(WaitCondition)
}

/// What a waiting job waits for. Deadlines are wall-clock dates so they survive restarts.
public enum WaitCondition: Sendable, Hashable, Codable {
    /// An event of `type` (for `machine`, if given); fails the attempt at `deadline`.
    case event(type: String, machine: String?, deadline: Date?)
    /// A point in time (sleep).
    case until(Date)
    /// Another run (a child run) to finish; fails the attempt at `deadline`, or if the child fails.
    case run(id: String, deadline: Date?)

    /// The event type that can satisfy this wait.
    var eventType: String? {
        switch self {
        case .event(let type, _, _): return type
        case .run: return Event.runFinished
        case .until: return nil
        }
    }
}

/// What an action sees of its step.
public struct StepContext: Sendable {
    public var runID: String
    public var stepID: String
    public var attempt: Int
    public var workflow: String
    public var machine: String?
    /// The step's arguments with every `${…}` resolved.
    public var arguments: [String: SpecValue]
    public var logger: Logger
    /// The engine's clock: actions read time here, never from the system, so tests control it.
    public var now: Date
    /// Appends a line to the step's log (an event on the run).
    public var log: @Sendable (String) async -> Void
    /// For orchestrating actions only: the object store, and a way to start (or find again) a child run.
    public var objects: ObjectStore?
    public var startChildRun: (@Sendable (_ workflow: String, _ parameters: [String: SpecValue]) async throws -> Run)?

    public init(
        runID: String, stepID: String, attempt: Int, workflow: String, machine: String?, arguments: [String: SpecValue],
        logger: Logger, now: Date, log: @escaping @Sendable (String) async -> Void
    ) {
        self.runID = runID
        self.stepID = stepID
        self.attempt = attempt
        self.workflow = workflow
        self.machine = machine
        self.arguments = arguments
        self.logger = logger
        self.now = now
        self.log = log
    }

    /// For tests and orchestrating actions: the same context with OSIS access and child runs.
    public func orchestrating(
        objects: ObjectStore, startChildRun: @escaping @Sendable (String, [String: SpecValue]) async throws -> Run
    ) -> StepContext {
        var context = self
        context.objects = objects
        context.startChildRun = startChildRun
        return context
    }

    public func string(_ name: String) -> String? { arguments[name]?.string ?? arguments[name].map(\.description) }
    public func int(_ name: String) -> Int? { arguments[name]?.int }
    public func duration(_ name: String) -> Duration? { arguments[name]?.duration }
}

/// An action failure with a message for the run's log.
public struct ActionError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The actions a spec may name: core actions plus whatever the appliance registers.
public struct ActionRegistry: Sendable {
    public private(set) var actions: [String: any WorkflowAction]

    public init(_ actions: [any WorkflowAction] = []) {
        self.actions = [:]
        for action in actions { register(action) }
    }

    public mutating func register(_ action: any WorkflowAction) {
        actions[type(of: action).name] = action
    }

    public subscript(name: String) -> (any WorkflowAction)? { actions[name] }

    /// The core actions, which need nothing outside the engine.
    public static var core: ActionRegistry {
        ActionRegistry([SleepAction(), LogAction(), FailAction(), WaitForEventAction(), CommandAction(), RunWorkflowAction()])
    }
}
