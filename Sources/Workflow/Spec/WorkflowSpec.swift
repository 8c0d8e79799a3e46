public import StrictYAML

/// A workflow as an operator writes it: named, versioned, with typed parameters and a DAG of steps.
///
/// Values keep the `SourceLocation` they were read from, so validation and run-time errors point at
/// the line of the spec file that caused them.
public struct WorkflowSpec: Sendable, Hashable {
    public var name: String
    public var version: Int
    public var description: String?
    public var parameters: [ParameterSpec]
    public var steps: [StepSpec]
    /// The whole run fails as timed out after this long.
    public var timeout: Duration?
    public var location: SourceLocation

    public init(
        name: String, version: Int = 1, description: String? = nil, parameters: [ParameterSpec] = [], steps: [StepSpec],
        timeout: Duration? = nil, location: SourceLocation = SourceLocation(file: "<memory>", line: 1, column: 1)
    ) {
        self.name = name
        self.timeout = timeout
        self.version = version
        self.description = description
        self.parameters = parameters
        self.steps = steps
        self.location = location
    }

    public func step(_ id: String) -> StepSpec? { steps.first { $0.id == id } }

    /// Steps that run only when another step's failure asks for them.
    public var compensationSteps: Set<String> {
        Set(steps.flatMap { step -> [String] in
            if case .compensate(let ids) = step.onFailure { ids } else { [] }
        })
    }
}

/// A declared parameter of a workflow.
public struct ParameterSpec: Sendable, Hashable {
    public var name: String
    public var type: ValueType
    /// Absent for required parameters.
    public var defaultValue: SpecValue?
    public var location: SourceLocation

    public var isRequired: Bool { defaultValue == nil }

    public init(name: String, type: ValueType, defaultValue: SpecValue? = nil, location: SourceLocation) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.location = location
    }
}

/// One step: an action with arguments, its dependencies, and what to do when it fails or runs long.
public struct StepSpec: Sendable, Hashable {
    public var id: String
    public var action: String
    /// Arguments; strings may hold `${…}` references resolved when the step starts.
    public var arguments: [String: SpecValue]
    public var needs: [String]
    /// Runs the step only when this holds; otherwise the step is skipped.
    public var condition: Condition?
    public var timeout: Duration?
    public var retry: RetryPolicy
    public var onFailure: FailurePolicy
    public var location: SourceLocation
    /// Where each argument was written, for error messages.
    public var argumentLocations: [String: SourceLocation]

    public init(
        id: String, action: String, arguments: [String: SpecValue] = [:], needs: [String] = [], condition: Condition? = nil,
        timeout: Duration? = nil, retry: RetryPolicy = RetryPolicy(), onFailure: FailurePolicy = .failRun,
        location: SourceLocation = SourceLocation(file: "<memory>", line: 1, column: 1), argumentLocations: [String: SourceLocation] = [:]
    ) {
        self.id = id
        self.action = action
        self.arguments = arguments
        self.needs = needs
        self.condition = condition
        self.timeout = timeout
        self.retry = retry
        self.onFailure = onFailure
        self.location = location
        self.argumentLocations = argumentLocations
    }
}

/// How often a failed step is tried again, and how long to wait between tries.
public struct RetryPolicy: Sendable, Hashable {
    /// Total tries, the first included: 1 means no retry.
    public var attempts: Int
    public var backoff: Duration
    /// The backoff grows by this factor after each try, up to `maxBackoff`.
    public var factor: Double
    public var maxBackoff: Duration

    public init(attempts: Int = 1, backoff: Duration = .seconds(1), factor: Double = 2, maxBackoff: Duration = .seconds(300)) {
        self.attempts = attempts
        self.backoff = backoff
        self.factor = factor
        self.maxBackoff = maxBackoff
    }

    /// The wait before try number `attempt + 1` (attempt counts from 1).
    public func delay(after attempt: Int) -> Duration {
        var delay = backoff
        for _ in 1..<max(1, attempt) { delay = min(maxBackoff, delay * factor) }
        return min(delay, maxBackoff)
    }
}

/// What a step's final failure does to its run.
public enum FailurePolicy: Sendable, Hashable {
    /// The run fails (steps already running finish; nothing new starts).
    case failRun
    /// The failure is recorded and dependents run as if the step had succeeded.
    case `continue`
    /// These steps run (in order of their own `needs`), then the run fails.
    case compensate([String])
}

/// The value types parameters and action arguments are declared with.
public enum ValueType: String, Sendable, Hashable, CaseIterable {
    case string, int, bool, duration, list
}
