import Foundation

/// `workflow`: runs another workflow as a child run of this step and waits for it. An orchestrating
/// action: the child gets this run's machine, and `params` as `name=value` pairs. A retried step
/// re-attaches to its child (resuming it if it failed) rather than starting a second one.
public struct RunWorkflowAction: WorkflowAction {
    public static let name = "workflow"
    public static let arguments = [
        ArgumentSpec("name", .string, required: true, help: "the workflow to run"),
        ArgumentSpec("params", .list, help: "parameters as name=value"),
        ArgumentSpec("timeout", .duration, help: "fail the attempt if the child has not finished by then"),
    ]
    public static let isOrchestrating = true

    public init() {}

    public func run(_ context: StepContext) async throws -> StepOutcome {
        guard let startChildRun = context.startChildRun else { throw ActionError("workflow runs only as an orchestrating action") }
        guard let name = context.string("name") else { throw ActionError("workflow needs 'name'") }
        var parameters: [String: SpecValue] = [:]
        if case .list(let pairs)? = context.arguments["params"] {
            for pair in pairs.map(\.description) {
                guard let equals = pair.firstIndex(of: "=") else { throw ActionError("params take name=value, not '\(pair)'") }
                parameters[String(pair[..<equals])] = .string(String(pair[pair.index(after: equals)...]))
            }
        }
        let child = try await startChildRun(name, parameters)
        if child.state == .succeeded { return .succeeded(["run": .string(child.id), "state": .string(child.state.rawValue)]) }
        let deadline = context.duration("timeout").map { context.now.addingTimeInterval($0.timeInterval) }
        return .wait(.run(id: child.id, deadline: deadline))
    }
}
