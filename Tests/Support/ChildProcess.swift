import Foundation
import Synchronization

/// A process the test starts (the `provision` binary, a real client), with its output captured.
public final class ChildProcess: Sendable {
    private let process: Process
    private let output = OutputBuffer()

    /// The `provision` executable built next to the test bundle.
    public static var provisionBinary: String {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let beside = bundleDirectory.appendingPathComponent("provision").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        // swift-testing may run from a helper: fall back to the build folder of the package.
        return PackageRoot.path + "/.build/debug/provision"
    }

    /// Starts `executable` with `arguments`; stdout and stderr are merged into `output`.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if !chunk.isEmpty { output.bytes.withLock { $0.append(chunk) } }
        }
        try process.run()
    }

    /// A test that ends early (a failed expectation, a time limit) must not leave its child running: a
    /// crash-test writer left behind once filled the disk.
    deinit {
        if process.isRunning, Self.exitStatus(of: process.processIdentifier) == nil { kill(process.processIdentifier, SIGKILL) }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var text: String { output.bytes.withLock { String(decoding: $0, as: UTF8.self) } }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits up to `timeout` for the process to exit; returns its status, or nil if it is still running.
    public func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            // Foundation can miss a child's exit when many are started at once from several threads; the
            // kernel cannot. Peek without reaping, so Foundation still reaps it when it does notice.
            if let status = Self.exitStatus(of: process.processIdentifier) {
                try? await Task.sleep(for: .milliseconds(50))
                return status
            }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        // Give the pipe's reader a moment to drain the last output.
        try? await Task.sleep(for: .milliseconds(50))
        return process.terminationStatus
    }

    /// The exit status (or terminating signal) of a child that has ended, without reaping it.
    static func exitStatus(of pid: Int32) -> Int32? {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0, info._sifields._sigchld.si_pid == pid else {
            return nil
        }
        return info._sifields._sigchld.si_status
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

/// Output gathered from a child's pipe on the pipe's own thread.
private final class OutputBuffer: Sendable {
    let bytes = Mutex(Data())
}
