import Foundation

/// `sleep`: waits for `for` (a duration). Durable: a restart does not shorten or restart the sleep.
public struct SleepAction: WorkflowAction {
    public static let name = "sleep"
    public static let arguments = [ArgumentSpec("for", .duration, required: true, help: "how long")]
    public init() {}

    public func run(_ context: StepContext) async throws -> StepOutcome {
        guard let duration = context.duration("for") else { throw ActionError("sleep needs a duration 'for'") }
        return .wait(.until(context.now.addingTimeInterval(duration.timeInterval)))
    }
}

/// `log`: writes `message` to the run's log.
public struct LogAction: WorkflowAction {
    public static let name = "log"
    public static let arguments = [ArgumentSpec("message", .string, required: true)]
    public init() {}

    public func run(_ context: StepContext) async throws -> StepOutcome {
        let message = context.string("message") ?? ""
        await context.log(message)
        return .succeeded(["message": .string(message)])
    }
}

/// `fail`: fails with `message`; for testing failure paths and as an explicit stop in specs.
public struct FailAction: WorkflowAction {
    public static let name = "fail"
    public static let arguments = [ArgumentSpec("message", .string)]
    public init() {}

    public func run(_ context: StepContext) async throws -> StepOutcome {
        throw ActionError(context.string("message") ?? "failed by the spec")
    }
}

/// `wait-event`: waits for an event of `type` for the run's machine (e.g. `machine.booted` from the
/// agent), failing the attempt after `timeout`. The event's id and data become the step's outputs.
public struct WaitForEventAction: WorkflowAction {
    public static let name = "wait-event"
    public static let arguments = [
        ArgumentSpec("type", .string, required: true, help: "event type, e.g. machine.booted"),
        ArgumentSpec("timeout", .duration, help: "fail the attempt after this long"),
        ArgumentSpec("any-machine", .bool, help: "match events of any machine, not only the run's"),
    ]
    public init() {}

    public func run(_ context: StepContext) async throws -> StepOutcome {
        guard let type = context.string("type") else { throw ActionError("wait-event needs 'type'") }
        let machine = context.arguments["any-machine"]?.bool == true ? nil : context.machine
        let deadline = context.duration("timeout").map { context.now.addingTimeInterval($0.timeInterval) }
        return .wait(.event(type: type, machine: machine, deadline: deadline))
    }
}

extension Duration {
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
