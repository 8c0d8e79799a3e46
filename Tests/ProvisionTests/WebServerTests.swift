import Foundation
import Hummingbird
import HummingbirdTesting
import OSIS
import Prometheus
import Provision
import Testing
import TestSupport
import StrictYAML
import Workflow

@Suite(.timeLimit(.minutes(3))) struct WebServerTests {
    /// An app over a fresh embedded state, with its views prepared.
    func withApp(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        specs: [WorkflowSpec] = [],
        _ body: @escaping @Sendable (ApplianceState, any TestClientProtocol) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory("web")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let kv = try SQLiteKV(path: path)
        let state = ApplianceState(kv: kv, views: try SQLiteViewStore(sharingFileOf: kv))
        try await state.projector.prepare()
        let engine = WorkflowEngine(objects: ObjectStore(kv: state.kv), catalog: WorkflowCatalog(specs))
        let app = Application(router: WebServer.router(state: state, engine: engine, registry: registry))
        try await app.test(.router) { client in try await body(state, client) }
        engine.shutdown()
        await state.close()
    }

    @Test func healthzReportsTheStoreRevision() async throws {
        try await withApp { state, client in
            try await state.kv.put("/x", Data("1".utf8))
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains("\"revision\":1"), "\(body)")
                #expect(body.contains("\"backend\":\"sqlite\""))
            }
        }
    }

    @Test func healthzIs503WhenTheStoreIsGone() async throws {
        try await withApp { state, client in
            await state.kv.close()
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("store is closed"))
            }
        }
    }

    @Test func metricsAreInPrometheusTextFormat() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "provision_test", unitName: "total", helpText: "t")).increment(by: Int64(3))
        try await withApp(registry: registry) { _, client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                #expect(String(buffer: response.body).contains("provision_test_total 3"))
            }
        }
    }

    @Test func viewsAreListedFilteredSortedAndPaged() async throws {
        try await withApp { state, client in
            let objects = ObjectStore(kv: state.kv)
            for i in 0..<12 {
                try await objects.put(Machine(mac: String(format: "52:54:00:00:00:%02x", i), state: i < 8 ? .discovered : .provisioned, progress: i * 5))
            }
            _ = try await state.projector.reindex()
            try await client.execute(uri: "/api/v1/views/machine?state=discovered&sort=-progress&limit=3&offset=1", method: .get) { response in
                #expect(response.status == .ok)
                let page = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                #expect(page?["total"] as? Int == 8)
                let items = page?["items"] as? [[String: Any]] ?? []
                #expect(items.map { $0["id"] as? String } == ["52:54:00:00:00:06", "52:54:00:00:00:05", "52:54:00:00:00:04"])
                #expect((items.first?["object"] as? [String: Any])?["progress"] as? Int == 30)
            }
            try await client.execute(uri: "/api/v1/views/machine?progress=gt:40", method: .get) { response in
                let page = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                #expect(page?["total"] as? Int == 3)
            }
        }
    }

    @Test func badViewQueriesGetAReason() async throws {
        try await withApp { _, client in
            try await client.execute(uri: "/api/v1/views/machine?colour=red", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("machine has no column 'colour'"))
            }
            try await client.execute(uri: "/api/v1/views/machine?limit=5000", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/views/gadget", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    static let bootSpec = WorkflowSpec(
        name: "boot", parameters: [ParameterSpec(name: "image", type: .string, location: .init(file: "f", line: 1, column: 1))],
        steps: [
            StepSpec(id: "hello", action: "log", arguments: ["message": .string("${params.image}")]),
            StepSpec(id: "booted", action: "wait-event", arguments: ["type": .string("machine.booted")], needs: ["hello"]),
        ])

    @Test func runsStartWaitForEventsAndFinishThroughTheAPI() async throws {
        try await withApp(specs: [Self.bootSpec]) { state, client in
            let started = try await client.execute(
                uri: "/api/v1/runs", method: .post,
                body: ByteBuffer(string: #"{"workflow": "boot", "machine": "52:54:00:aa:bb:cc", "parameters": {"image": "debian-12"}}"#))
            #expect(started.status == .created)
            let created = try JSONSerialization.jsonObject(with: Data(String(buffer: started.body).utf8)) as? [String: Any]
            let id = try #require((created?["run"] as? [String: Any])?["id"] as? String)
            // Wait until the second step waits for the event, then post it.
            for _ in 0..<2000 {
                let detail = try await client.execute(uri: "/api/v1/runs/\(id)", method: .get)
                if String(buffer: detail.body).contains(#""state":"waiting""#) { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            let posted = try await client.execute(
                uri: "/api/v1/events", method: .post, body: ByteBuffer(string: #"{"type": "machine.booted", "machine": "52:54:00:aa:bb:cc"}"#))
            #expect(posted.status == .accepted)
            var final = ""
            for _ in 0..<2000 {
                final = String(buffer: try await client.execute(uri: "/api/v1/runs/\(id)", method: .get).body)
                if final.contains(#""state":"succeeded","startedAt""#) || final.contains(#""progress":100"#) { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(final.contains(#""progress":100"#), "\(final)")
        }
    }

    @Test func badRunRequestsGetAReason() async throws {
        try await withApp(specs: [Self.bootSpec]) { _, client in
            let missing = try await client.execute(uri: "/api/v1/runs", method: .post, body: ByteBuffer(string: #"{"workflow": "boot"}"#))
            #expect(missing.status == .badRequest)
            #expect(String(buffer: missing.body).contains("missing required parameter 'image'"))
            let unknown = try await client.execute(uri: "/api/v1/runs", method: .post, body: ByteBuffer(string: #"{"workflow": "nope"}"#))
            #expect(unknown.status == .badRequest)
            let garbage = try await client.execute(uri: "/api/v1/runs", method: .post, body: ByteBuffer(string: "{not json"))
            #expect(garbage.status == .badRequest)
            let none = try await client.execute(uri: "/api/v1/runs/run-nope", method: .get)
            #expect(none.status == .notFound)
            let resume = try await client.execute(uri: "/api/v1/runs/run-nope/resume", method: .post)
            #expect(resume.status == .notFound)
        }
    }
}
