import Foundation
import Hummingbird
import HummingbirdTesting
import OSIS
import Prometheus
import Provision
import Testing
import TestSupport
import Workflow

/// `GET /boot/<mac>.ipxe`, where the DHCP responder sends iPXE: a machine that boots from its disk gets
/// `exit` (the firmware moves on to the next boot device), any other one is told to wait and ask again.
@Suite(.timeLimit(.minutes(3))) struct BootScriptTests {
    @Test(arguments: [
        (Machine.State.provisioned, [String: String](), true), (.retired, [:], true), (.discovered, ["boot-target": "local"], true),
        (.discovered, [:], false), (.provisioning, [:], false),
    ])
    func localDiskExits(state: Machine.State, facts: [String: String], exits: Bool) async throws {
        let directory = try TemporaryDirectory("boot")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let appState = ApplianceState(kv: try SQLiteKV(path: path), views: try SQLiteViewStore(path: path))
        let objects = ObjectStore(kv: appState.kv)
        let engine = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([]))
        try await objects.create(Machine(mac: "52:54:00:00:00:07", state: state, facts: facts))
        let app = Application(router: WebServer.router(state: appState, engine: engine, registry: PrometheusCollectorRegistry()))
        try await app.test(.router) { client in
            try await client.execute(uri: "/boot/52:54:00:00:00:07.ipxe", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(response.status == .ok && body.hasPrefix("#!ipxe\n"))
                #expect(body.hasSuffix("exit\n") == exits, "\(body)")
                #expect(body.contains("chain") == !exits)
            }
            try await client.execute(uri: "/boot/not-a-mac.ipxe", method: .get) { response in #expect(response.status == .notFound) }
            try await client.execute(uri: "/boot/52:54:00:00:00:08.ipxe", method: .get) { response in
                // Dashes: a colon before the first slash would make iPXE read the relative URL as a scheme.
                #expect(String(buffer: response.body).contains("chain --autofree 52-54-00-00-00-08.ipxe"))
            }
        }
        engine.shutdown()
        await appState.close()
    }
}
