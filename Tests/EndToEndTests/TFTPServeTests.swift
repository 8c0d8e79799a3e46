import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// `provision serve` with TFTP on: the root is created, curl fetches a file, /metrics counts it.
@Suite struct TFTPServeTests {
    @Test(.enabled(if: RealServices.isCI || FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
    func servesTheRootAndCounts() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (httpPort, tftpPort) = (try freeTCPPort(), try freeUDPPort())
        let config = try directory.write("appliance.yaml", """
            data-dir: \(directory.path)
            http:
              listen: 127.0.0.1:\(httpPort)
            tftp:
              listen: 127.0.0.1:\(tftpPort)
              root: boot
            """)
        let server = try ChildProcess(ChildProcess.provisionBinary, ["serve", "--config", config])
        defer { if server.isRunning { server.signal(SIGKILL) } }
        let deadline = ContinuousClock.now + .seconds(30)
        while !server.text.contains("tftp: listening"), server.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(FileManager.default.fileExists(atPath: directory.file("boot")), "the root is created: \(server.text)")
        try directory.write("boot/pxelinux.0", String(repeating: "boot loader ", count: 1000))

        let fetched = try await ChildProcess.run("/usr/bin/curl", ["-sS", "-o", directory.file("got"), "--tftp-blksize", "1468", "tftp://127.0.0.1:\(tftpPort)/pxelinux.0"])
        #expect(fetched.status == 0, "\(fetched.output)\n\(server.text)")
        #expect(try String(contentsOfFile: directory.file("got"), encoding: .utf8) == String(repeating: "boot loader ", count: 1000))
        let refused = try await ChildProcess.run("/usr/bin/curl", ["-sS", "-o", directory.file("no"), "--path-as-is", "tftp://127.0.0.1:\(tftpPort)/../appliance.yaml"])
        #expect(refused.status == 69, "curl's exit code for TFTP access violation: \(refused.output)")

        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(httpPort)/metrics")!)
        let metrics = String(decoding: data, as: UTF8.self)
        #expect(metrics.contains("tftp_transfers_total{result=\"ok\"} 1"), "\(metrics)")
        #expect(metrics.contains("tftp_refused_total{reason=\"path\"} 1"), "\(metrics)")

        // The completed transfer is an appliance event (refusals are only logged).
        var events = ""
        for _ in 0..<300 {
            let (body, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(httpPort)/api/v1/views/event?type=tftp.transfer")!)
            events = String(decoding: body, as: UTF8.self)
            if events.contains(#""total":1"#) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(events.contains(#""total":1"#) && events.contains("pxelinux.0"), "\(events)")

        server.signal(SIGTERM)
        #expect(await server.wait(timeout: .seconds(5)) == 0, "\(server.text)")
        #expect(server.text.contains("tftp: stopped"))
    }
}
