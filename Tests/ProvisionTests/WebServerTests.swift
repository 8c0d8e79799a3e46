import Foundation
import Hummingbird
import HummingbirdTesting
import OSIS
import Prometheus
import Provision
import Testing
import TestSupport

@Suite struct WebServerTests {
    func withApp(_ body: @escaping @Sendable (SQLiteKV, any TestClientProtocol) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("web")
        defer { directory.remove() }
        let store = try SQLiteKV(path: directory.file("state.sqlite"))
        let app = Application(router: WebServer.router(store: store, registry: PrometheusCollectorRegistry()))
        try await app.test(.router) { client in try await body(store, client) }
        await store.close()
    }

    @Test func healthzReportsTheStoreRevision() async throws {
        try await withApp { store, client in
            try await store.put("/x", Data("1".utf8))
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains("\"revision\":1"), "\(body)")
                #expect(body.contains("\"backend\":\"sqlite\""))
            }
        }
    }

    @Test func healthzIs503WhenTheStoreIsGone() async throws {
        try await withApp { store, client in
            await store.close()
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("store is closed"))
            }
        }
    }

    @Test func metricsAreInPrometheusTextFormat() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "provision_test", unitName: "total", helpText: "t")).increment(by: Int64(3))
        let directory = try TemporaryDirectory("web")
        defer { directory.remove() }
        let store = try SQLiteKV(path: directory.file("state.sqlite"))
        let app = Application(router: WebServer.router(store: store, registry: registry))
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                #expect(String(buffer: response.body).contains("provision_test_total 3"))
            }
        }
        await store.close()
    }
}
