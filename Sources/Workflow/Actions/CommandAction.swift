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

/// Runs a program to completion or until a timeout, off the cooperative pool.
enum LocalCommand {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ program: String, _ arguments: [String], timeout: Duration) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw ActionError("cannot run \(program): \(error.localizedDescription)")
        }
        let killer = Task {
            try await Task.sleep(for: timeout)
            if process.isRunning { process.terminate() }
        }
        // Reading to EOF on a background thread avoids blocking a cooperative thread.
        async let stdout = readAll(out.fileHandleForReading)
        async let stderr = readAll(err.fileHandleForReading)
        let (o, e) = await (stdout, stderr)
        process.waitUntilExit()
        killer.cancel()
        if process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM {
            throw ActionError("\(program) timed out after \(timeout)")
        }
        return Result(status: process.terminationStatus, stdout: o, stderr: e)
    }

    private static func readAll(_ handle: FileHandle) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: String(decoding: handle.readDataToEndOfFile(), as: UTF8.self))
            }
        }
    }
}
