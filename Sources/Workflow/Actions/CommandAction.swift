import Foundation

/// `command`: runs a local program (no shell) with a timeout, capturing its output. Outputs: `status`,
/// `stdout`, `stderr` (each capped at 64 KiB). A non-zero exit status fails the attempt.
public struct CommandAction: WorkflowAction {
    public static let name = "command"
    public static let arguments = [
        ArgumentSpec("run", .list, required: true, help: "program and arguments, e.g. [/usr/bin/ipmitool, power, on]"),
        ArgumentSpec("timeout", .duration, help: "kill the program after this long (default 5m)"),
    ]
    public static let concurrencyLimit: Int? = 16
    static let outputCap = 64 * 1024

    public init() {}

    public func run(_ context: StepContext) async throws -> StepOutcome {
        guard case .list(let words)? = context.arguments["run"], let program = words.first?.description, !program.isEmpty else {
            throw ActionError("command needs 'run': a program and its arguments")
        }
        let timeout = context.duration("timeout") ?? .seconds(300)
        let result = try await LocalCommand.run(program, words.dropFirst().map(\.description), timeout: timeout)
        await context.log("\(program) exited with \(result.status)")
        guard result.status == 0 else {
            throw ActionError("\(program) exited with status \(result.status): \(result.stderr.suffix(500))")
        }
        return .succeeded([
            "status": .int(Int(result.status)), "stdout": .string(String(result.stdout.prefix(Self.outputCap))),
            "stderr": .string(String(result.stderr.prefix(Self.outputCap))),
        ])
    }
}

/// Runs a program to completion or until a timeout, without blocking a cooperative thread.
enum LocalCommand {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ program: String, _ arguments: [String], timeout: Duration) async throws -> Result {
        let child: Subprocess
        do {
            child = try Subprocess(program, arguments, mergingErrors: false)
        } catch {
            throw ActionError("cannot run \(program): \(error.localizedDescription)")
        }
        guard let termination = await child.wait(timeout: timeout) else {
            child.signal(SIGTERM)
            _ = await child.wait(timeout: .seconds(5))
            throw ActionError("\(program) timed out after \(timeout)")
        }
        return Result(
            status: termination.status, stdout: String(decoding: child.output, as: UTF8.self), stderr: String(decoding: child.errors, as: UTF8.self))
    }
}
