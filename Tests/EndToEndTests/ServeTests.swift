import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// `provision serve` on its embedded default: starts, answers /healthz and /metrics, stops on SIGTERM.
@Suite(.timeLimit(.minutes(3))) struct ServeTests {
    @Test func servesHealthAndMetricsAndStopsOnSIGTERM() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let port = try freeTCPPort()
        let config = try directory.write("appliance.yaml", """
            data-dir: \(directory.path)
            http:
              listen: 127.0.0.1:\(port)
            tftp:
              enabled: false
            """)
        let server = try ChildProcess(ChildProcess.provisionBinary, ["serve", "--config", config])
        defer { if server.isRunning { server.signal(SIGKILL) } }

        let health = try await server.get("http://127.0.0.1:\(port)/healthz")
        #expect(health.status == 200, "\(server.text)")
        let body = try JSONSerialization.jsonObject(with: health.body) as? [String: Any]
        #expect(body?["status"] as? String == "ok")
        #expect((body?["store"] as? [String: Any])?["backend"] as? String == "sqlite")

        let metrics = try await server.get("http://127.0.0.1:\(port)/metrics")
        let text = String(decoding: metrics.body, as: UTF8.self)
        #expect(metrics.status == 200)
        #expect(text.contains("provision_build_info{version="), "\(text)")
        #expect(text.contains("hb_requests"), "the request to /healthz is counted: \(text)")
        #expect(text.contains("osis_commits_total"), "\(text)")
        #expect(text.contains("osis_sync_drains_total{place=\"pool\"}"), "where the store waits for its fsyncs: \(text)")

        let log = server.text
        #expect(log.contains("dhcp: not started: no network is configured"), "\(log)")
        #expect(log.contains("http: listening"), "\(log)")

        server.signal(SIGTERM)
        let status = await server.wait(timeout: .seconds(5))
        #expect(status == 0, "did not exit cleanly within 5 s: \(server.text)")
        #expect(server.text.contains("store: closed"))
        #expect(FileManager.default.fileExists(atPath: directory.file("state.sqlite")))
    }
}
