import CLinuxShims
public import Foundation
import Synchronization

/// A child process started with `posix_spawn`: its output read to the end on a thread of its own, its
/// exit found with `waitpid`.
///
/// Not Foundation's `Process`: on Linux it can miss a child's exit when several children start at once
/// from different threads, and its `waitUntilExit` then blocks a cooperative thread for good. The DHCP
/// tests stalled that way, every test in the run with them, once enough clients ran side by side.
public final class Subprocess: Sendable {
    public let pid: pid_t
    /// Shared with the reader threads, which must not keep the whole object (and so its child) alive.
    private let shared = Shared()

    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    private struct State {
        /// `waitpid`'s status once the child is reaped.
        var waitStatus: Int32?
        var output = Data()
        var errors = Data()
        var openStreams = 0
    }

    /// How the child ended: its exit code, or the signal that ended it.
    public enum Termination: Sendable, Hashable {
        case exited(Int32)
        case signalled(Int32)

        /// The exit code, or the signal's number (as Foundation's `terminationStatus` reports both).
        public var status: Int32 {
            switch self {
            case .exited(let code), .signalled(let code): code
            }
        }
    }

    /// Starts `executable` with `arguments`, standard input from /dev/null. With `mergingErrors`, standard
    /// error goes where standard output goes (`output`); otherwise to `errors`.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, mergingErrors: Bool = true) throws {
        let output = try Self.pipe()
        let errors = mergingErrors ? nil : try Self.pipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errors?.write ?? output.write, 2)
        // Nothing else of ours: descriptors without close-on-exec (sockets) would outlive us in the child.
        provision_spawn_close_from(&actions, 3)
        // The child starts with every signal at its default and none blocked, whatever this thread ignores.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        // The parent's copies of the write ends must go, or the reader never sees end of file.
        close(output.write)
        if let errors { close(errors.write) }
        guard result == 0 else {
            close(output.read)
            if let errors { close(errors.read) }
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .ENOENT)
        }
        self.pid = pid
        shared.state.withLock { $0.openStreams = errors == nil ? 1 : 2 }
        startReader(output.read, into: .output)
        if let errors { startReader(errors.read, into: .errors) }
    }

    deinit {
        // Never leave a child behind, nor a zombie.
        if termination == nil {
            kill(pid, SIGKILL)
            for _ in 0..<200 where termination == nil { usleep(5_000) }
        }
    }

    /// Standard output (with standard error, when merged) so far.
    public var output: Data { shared.state.withLock { $0.output } }
    public var errors: Data { shared.state.withLock { $0.errors } }
    public var isRunning: Bool { termination == nil }

    public func signal(_ signal: Int32) { if termination == nil { kill(pid, signal) } }

    /// How the child ended, or nil while it runs; reaps it the first time it is seen to have ended.
    public var termination: Termination? {
        shared.state.withLock { state in
            if state.waitStatus == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { state.waitStatus = status }
            }
            return state.waitStatus.map { status in
                status & 0x7F == 0 ? .exited((status >> 8) & 0xFF) : .signalled(status & 0x7F)
            }
        }
    }

    /// Waits up to `timeout` for the child to end and its output to be read; nil if it still runs.
    public func wait(timeout: Duration) async -> Termination? {
        let deadline = ContinuousClock.now + timeout
        while termination == nil {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        // A grandchild may hold the pipe open; the output is whole once the reader sees its end, so wait a
        // little for that, not for the grandchild.
        let drained = ContinuousClock.now + .milliseconds(500)
        while shared.state.withLock({ $0.openStreams > 0 }), ContinuousClock.now < drained {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return termination
    }

    /// Runs to the end, blocking the calling thread: for short fixtures in synchronous code (`defer`).
    public static func runSynchronously(_ executable: String, _ arguments: [String]) throws -> (termination: Termination, output: Data) {
        let child = try Subprocess(executable, arguments)
        var termination = child.termination
        while termination == nil {
            usleep(2_000)
            termination = child.termination
        }
        for _ in 0..<250 where child.shared.state.withLock({ $0.openStreams > 0 }) { usleep(2_000) }
        return (termination!, child.output)
    }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        // Close-on-exec, so that children started at the same time from other threads do not inherit them.
        guard provision_pipe_cloexec(&fds) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EMFILE) }
        return (fds[0], fds[1])
    }

    private enum Stream { case output, errors }

    private func startReader(_ fd: Int32, into stream: Stream) {
        let thread = Thread { [shared] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                shared.state.withLock { state in
                    switch stream {
                    case .output: state.output.append(contentsOf: buffer[0..<count])
                    case .errors: state.errors.append(contentsOf: buffer[0..<count])
                    }
                }
            }
            close(fd)
            shared.state.withLock { $0.openStreams -= 1 }
        }
        thread.start()
    }
}
