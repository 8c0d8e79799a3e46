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

        let health = try await fetch("http://127.0.0.1:\(port)/healthz", while: server)
        #expect(health.status == 200, "\(server.text)")
        let body = try JSONSerialization.jsonObject(with: health.body) as? [String: Any]
        #expect(body?["status"] as? String == "ok")
        #expect((body?["store"] as? [String: Any])?["backend"] as? String == "sqlite")

        let metrics = try await fetch("http://127.0.0.1:\(port)/metrics", while: server)
        let text = String(decoding: metrics.body, as: UTF8.self)
        #expect(metrics.status == 200)
        #expect(text.contains("provision_build_info{version="), "\(text)")
        #expect(text.contains("hb_requests"), "the request to /healthz is counted: \(text)")

        let log = server.text
        #expect(log.contains("dhcp: not started: no network is configured"), "\(log)")
        #expect(log.contains("http: listening"), "\(log)")

        server.signal(SIGTERM)
        let status = await server.wait(timeout: .seconds(5))
        #expect(status == 0, "did not exit cleanly within 5 s: \(server.text)")
        #expect(server.text.contains("store: closed"))
        #expect(FileManager.default.fileExists(atPath: directory.file("state.sqlite")))
    }

    /// GETs `url`, retrying while the server starts (up to 30 s); fails if the server exits meanwhile.
    func fetch(_ url: String, while server: ChildProcess) async throws -> (status: Int, body: Data) {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
                return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
            } catch {
                guard server.isRunning, ContinuousClock.now < deadline else {
                    Issue.record("server not answering \(url): \(error)\n\(server.text)")
                    throw error
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
