import Foundation
import Workflow
import Synchronization

/// A process the test starts (the `provision` binary, a real client), with its output captured.
/// Built on `Subprocess` (posix_spawn and waitpid), not Foundation's `Process`, which can miss exits.
public final class ChildProcess: Sendable {
    private let child: Subprocess

    /// The `provision` executable built next to the test bundle.
    public static var provisionBinary: String {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let beside = bundleDirectory.appendingPathComponent("provision").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        // swift-testing may run from a helper: fall back to the build folder of the package.
        return PackageRoot.path + "/.build/debug/provision"
    }

    /// Starts `executable` with `arguments`; stdout and stderr are merged into `text`. A test that ends
    /// early (a failed expectation, a time limit) does not leave the child running: `Subprocess` kills it
    /// when this goes away (a crash-test writer left behind once filled the disk).
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        child = try Subprocess(executable, arguments, environment: environment)
    }

    public var pid: Int32 { child.pid }
    public var isRunning: Bool { child.isRunning }
    public var text: String { String(decoding: child.output, as: UTF8.self) }

    public func signal(_ signal: Int32) { child.signal(signal) }

    /// Waits up to `timeout` for the process to exit; returns its status (or the signal that ended it),
    /// or nil if it is still running.
    public func wait(timeout: Duration) async -> Int32? {
        await child.wait(timeout: timeout)?.status
    }

    /// Runs to completion and returns (status, output).
    public static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
        let child = try ChildProcess(executable, arguments)
        guard let status = await child.wait(timeout: timeout) else {
            child.signal(SIGKILL)
            return (-1, child.text + "\n[timed out]")
        }
        return (status, child.text)
    }

    /// Runs a short command to completion, blocking the thread: for fixtures and clean-up in `defer`.
    @discardableResult
    public static func runSynchronously(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let (termination, output) = try Subprocess.runSynchronously(executable, arguments)
        return (termination.status, String(decoding: output, as: UTF8.self))
    }
}

/// A TCP port that was free a moment ago on 127.0.0.1.
public func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}

