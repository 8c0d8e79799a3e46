import Foundation
import Testing
import TestSupport

/// `provision serve` with its KV store on the test etcd.
extension ServeTests {
    @Test func servesWithItsStoreOnEtcd() async throws {
        try await RealServices.with("PROVISION_TEST_ETCD_ENDPOINTS", service: "etcd") { endpoints in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let port = try freeTCPPort()
            let list = endpoints.split(separator: ",").joined(separator: ", ")
            let config = try directory.write("appliance.yaml", """
                data-dir: \(directory.path)
                state:
                  etcd: [\(list)]
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
            #expect((body?["store"] as? [String: Any])?["backend"] as? String == "etcd", "\(body ?? [:])")

            server.signal(SIGTERM)
            #expect(await server.wait(timeout: .seconds(5)) == 0, "did not exit cleanly within 5 s: \(server.text)")
            #expect(server.text.contains("store: closed"))
        }
    }
}
