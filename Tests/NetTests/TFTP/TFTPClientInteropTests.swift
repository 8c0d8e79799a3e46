import Foundation
import Net
import Testing
import TestSupport

/// Real clients against the service on loopback: tftp-hpa's `tftp`, `atftp` and curl each fetch files
/// byte-identical, the 100 MiB one included; traversal fails; two dozen transfers run at once.
/// `scripts/install-deps.sh tftp` installs the clients; under CI=true a missing one fails the test.
@Suite(.serialized) struct TFTPClientInteropTests {
    /// The files every test serves, made once: random bytes, so a misplaced block cannot go unseen.
    final class Files: Sendable {
        let directory: String
        let checksums: [String: String]

        /// One directory per test process (test runs of several worktrees share /tmp and would rewrite each
        /// other's files mid-transfer); those of processes that are gone are removed, so 100 MiB copies do not
        /// pile up in /tmp.
        init() throws {
            let base = NSTemporaryDirectory() + "/provision-tftp-interop-"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []
            where name.hasPrefix("provision-tftp-interop-") {
                let pid = Int32(name.dropFirst("provision-tftp-interop-".count)) ?? 0
                if pid <= 0 || kill(pid, 0) != 0 { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "/" + name) }
            }
            directory = base + "\(getpid())/root"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let sizes = ["empty": 0, "one-block": 512, "small": 100_003, "1mib": 1 << 20, "100mib": 100 << 20]
            for (name, size) in sizes {
                _ = try runSync("/bin/sh", ["-c", "head -c \(size) /dev/urandom > '\(directory)/\(name)'"])
            }
            try "line one\nline two\r\nbare\rCR\n".write(toFile: directory + "/text.txt", atomically: true, encoding: .utf8)
            try "secret".write(toFile: directory + "/../outside-secret", atomically: true, encoding: .utf8)
            var checksums: [String: String] = [:]
            for name in sizes.keys { checksums[name] = try sha256(directory + "/" + name) }
            self.checksums = checksums
        }
    }

    static let files = Result { try Files() }

    func withServer(
        _ configure: @escaping (inout TFTPService.Configuration) -> Void = { _ in },
        _ body: (TFTPTestServer, Files, TemporaryDirectory) async throws -> Void
    ) async throws {
        let files = try Self.files.get()
        let downloads = try TemporaryDirectory("tftp-downloads")
        defer { downloads.remove() }
        let server = try await TFTPTestServer.start(root: files.directory, configure: configure)
        defer { Task { await server.stop() } }
        try await body(server, files, downloads)
        await server.stop()
    }

    /// Fetches `name` with each client command and checks the bytes.
    func expectFetched(_ name: String, by command: (String) -> (String, [String]), files: Files, into downloads: TemporaryDirectory) async throws {
        let local = downloads.file(UUID().uuidString)
        let (tool, arguments) = command(local)
        let result = try await ChildProcess.run(tool, arguments, timeout: .seconds(300))
        #expect(result.status == 0, "\(tool) \(arguments.joined(separator: " ")): \(result.output)")
        #expect(try sha256(local) == files.checksums[name], "\(name) via \(tool)")
        try? FileManager.default.removeItem(atPath: local)
    }

    @Test(.enabled(if: TFTPClients.available("tftp")), arguments: ["empty", "one-block", "small", "100mib"])
    func tftpHPA(name: String) async throws {
        let tftp = try TFTPClients.require("tftp")
        try await withServer { server, files, downloads in
            // tftp-hpa asks for no options: lock-step 512-byte blocks, so 100 MiB rolls the block number over thrice.
            try await expectFetched(name, by: { (tftp, ["-m", "binary", "127.0.0.1", "\(server.port)", "-c", "get", name, $0]) }, files: files, into: downloads)
        }
    }

    @Test(.enabled(if: TFTPClients.available("atftp")), arguments: [
        ("small", "512", "1", 1), ("1mib", "1468", "16", 16), ("100mib", "1468", "16", 16), ("100mib", "1468", "64", 64),
        ("1mib", "8192", "64", 12), ("one-block", "8", "4", 4),
    ])
    func atftpWithWindows(name: String, blockSize: String, windowSize: String, granted: Int) async throws {
        let atftp = try TFTPClients.require("atftp")
        try await withServer { server, files, downloads in
            try await expectFetched(name, by: {
                (atftp, ["-g", "-r", name, "-l", $0, "--option", "blksize \(blockSize)", "--option", "windowsize \(windowSize)",
                         "--option", "tsize enable", "127.0.0.1", "\(server.port)"])
            }, files: files, into: downloads)
            let event = try #require(server.completed(name).last)
            #expect(event.blockSize == Int(blockSize) && event.windowSize == granted)
        }
    }

    /// The benchmark's own client (`tftp-fetch`, built beside the tests) with windows of 64 KiB blocks, which
    /// go out on the blocking socket: what `scripts/bench-tftp.sh` measures must be a whole, correct file.
    @Test(arguments: [("100mib", 65464, 16, 16), ("100mib", 32768, 64, 64), ("1mib", 1468, 64, 64), ("small", 512, 1, 1)])
    func tftpFetchWithLargeWindows(name: String, blockSize: Int, windowSize: Int, granted: Int) async throws {
        let fetch = URL(fileURLWithPath: ChildProcess.provisionBinary).deletingLastPathComponent().appendingPathComponent("tftp-fetch").path
        try await withServer({ $0.limits.maxWindowBytes = 4 << 20 }) { server, files, downloads in
            try await expectFetched(name, by: {
                (fetch, ["--blksize", "\(blockSize)", "--windowsize", "\(windowSize)", "--output", $0, "127.0.0.1", "\(server.port)", name])
            }, files: files, into: downloads)
            let event = try #require(server.completed(name).last)
            #expect(event.blockSize == blockSize && event.windowSize == granted)
        }
    }

    @Test(.enabled(if: TFTPClients.available("curl")), arguments: [("small", 512), ("1mib", 1468), ("100mib", 1468), ("100mib", 65464), ("empty", 8)])
    func curlWithBlockSize(name: String, blockSize: Int) async throws {
        let curl = try TFTPClients.require("curl")
        try await withServer { server, files, downloads in
            try await expectFetched(name, by: {
                (curl, ["-sS", "-o", $0, "--tftp-blksize", "\(blockSize)", "tftp://127.0.0.1:\(server.port)/\(name)"])
            }, files: files, into: downloads)
        }
    }

    /// Over IPv6 (the server on `::`, curl to `[::1]`), lock-step on both adapters: the blocking adapter
    /// binds a second socket to the port of the first and connects it to the client from the addresses
    /// as the kernel gave them, so a mistake there would leave the client a stranger.
    @Test(.enabled(if: TFTPClients.available("curl")), arguments: [true, false])
    func curlOverIPv6(threads: Bool) async throws {
        let curl = try TFTPClients.require("curl")
        try await withServer({ $0.listen.host = "::"; $0.socketThreads = threads }) { server, files, downloads in
            for blockSize in [512, 1468] {
                try await expectFetched("1mib", by: {
                    (curl, ["-sS", "-o", $0, "--tftp-blksize", "\(blockSize)", "tftp://[::1]:\(server.port)/1mib"])
                }, files: files, into: downloads)
            }
        }
    }

    @Test(.enabled(if: TFTPClients.available("tftp")))
    func netascii() async throws {
        let tftp = try TFTPClients.require("tftp")
        try await withServer { server, files, downloads in
            // tftp-hpa turns CR LF back into LF and CR NUL into CR: the file comes back as it is on disk.
            let local = downloads.file("text")
            let result = try await ChildProcess.run(tftp, ["-m", "ascii", "127.0.0.1", "\(server.port)", "-c", "get", "text.txt", local])
            #expect(result.status == 0, "\(result.output)")
            #expect(try String(contentsOfFile: local, encoding: .utf8) == "line one\nline two\r\nbare\rCR\n")
        }
    }

    @Test(.enabled(if: TFTPClients.available("tftp", "atftp", "curl")))
    func traversalFails() async throws {
        let (tftp, atftp, curl) = (try TFTPClients.require("tftp"), try TFTPClients.require("atftp"), try TFTPClients.require("curl"))
        try await withServer { server, _, downloads in
            let names = ["../outside-secret", "/etc/passwd", "../../../../etc/passwd", "sub/../../etc/passwd"]
            for name in names {
                let local = downloads.file("stolen")
                let attempts: [(String, [String])] = [
                    (tftp, ["-m", "binary", "127.0.0.1", "\(server.port)", "-c", "get", name, local]),
                    (atftp, ["-g", "-r", name, "-l", local, "127.0.0.1", "\(server.port)"]),
                    (curl, ["-sS", "-o", local, "--path-as-is", "tftp://127.0.0.1:\(server.port)/\(name)"]),
                ]
                for (tool, arguments) in attempts {
                    let result = try await ChildProcess.run(tool, arguments)
                    let got = (try? Data(contentsOf: URL(fileURLWithPath: local))) ?? Data()
                    #expect(got.isEmpty, "\(tool) fetched \(name): \(result.output)")
                    // curl's message is muddled ("getpeername() failed"); its exit code is the TFTP error: 69 access
                    // violation, 68 not found.
                    let refused = tool == curl ? [68, 69].contains(result.status)
                        : result.output.localizedCaseInsensitiveContains("access violation") || result.output.contains("not found")
                    #expect(refused, "\(tool) \(name): status \(result.status): \(result.output)")
                    try? FileManager.default.removeItem(atPath: local)
                }
            }
            let refused = server.events.events.filter { if case .refused = $0.outcome { return true } else { return false } }
            #expect(refused.count >= names.count * 3)
        }
    }

    @Test(.enabled(if: TFTPClients.available("atftp", "curl")))
    func twoDozenConcurrentTransfers() async throws {
        let (atftp, curl) = (try TFTPClients.require("atftp"), try TFTPClients.require("curl"))
        try await withServer { server, files, downloads in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        let command: (String) -> (String, [String]) = index.isMultiple(of: 2)
                            ? { (curl, ["-sS", "-o", $0, "--tftp-blksize", "1468", "tftp://127.0.0.1:\(server.port)/1mib"]) }
                            : { (atftp, ["-g", "-r", "1mib", "-l", $0, "--option", "blksize 1468", "--option", "windowsize 8", "127.0.0.1", "\(server.port)"]) }
                        try await expectFetched("1mib", by: command, files: files, into: downloads)
                    }
                }
                try await group.waitForAll()
            }
            #expect(server.completed("1mib").count == 24)
        }
    }
}

func sha256(_ path: String) throws -> String {
    let output = try runSync("/usr/bin/sha256sum", [path])
    return String(output.prefix(64))
}

/// Runs a short command to completion, synchronously; for fixtures only.
func runSync(_ executable: String, _ arguments: [String]) throws -> String {
    try ChildProcess.runSynchronously(executable, arguments).output
}
