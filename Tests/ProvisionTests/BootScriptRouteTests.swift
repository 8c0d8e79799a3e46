import Foundation
import Hummingbird
import HummingbirdTesting
import OSIS
import Prometheus
import Provision
import Testing
import TestSupport
import Workflow

/// `GET /boot/<mac>.ipxe`, the script the DHCP responder points iPXE at: a machine's own boot target
/// renders the same `boot.ipxe` template TFTP serves; without one, it waits or exits by its state.
@Suite struct BootScriptRouteTests {
    @Test func followsTheMachinesBootTarget() async throws {
        let directory = try TemporaryDirectory("bootroute")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
        let state = ApplianceState(kv: kv, views: try SQLiteViewStore(sharingFileOf: kv))
        try await state.projector.prepare()
        let objects = ObjectStore(kv: kv)
        let templates = try #require(try BootTemplateSet.load(directory: BootConfigFilesTests.shippedTemplates))
        let bootConfigs = BootConfigFiles(
            templates: templates, defaultTarget: "local", server: "http://10.0.0.1:8080", objects: objects,
            locator: MachineLocator(index: state.index))
        let engine = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([]))
        let router = WebServer.router(state: state, engine: engine, registry: PrometheusCollectorRegistry(), bootConfigs: bootConfigs)
        try await objects.create(Machine(mac: "52:54:00:00:00:01", hostname: "node1"))

        try await Application(router: router).test(.router) { client in
            func script(_ path: String) async throws -> String {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok)
                    return String(buffer: response.body)
                }
            }
            // No target of its own: wait for a workflow; the retry URL has no colon (iPXE reads one as a scheme).
            let waiting = try await script("/boot/52-54-00-00-00-01.ipxe")
            #expect(waiting.contains("nothing to boot for 52:54:00:00:00:01") && waiting.contains("chain --autofree 52-54-00-00-00-01.ipxe"), "\(waiting)")
            // The colon form, as iPXE percent-encodes it, names the same machine.
            #expect(try await script("/boot/52%3A54%3A00%3A00%3A00%3A01.ipxe") == waiting)

            try await objects.modify(Machine.self, id: "52:54:00:00:00:01") { $0.bootTarget = "install" }
            let install = try await script("/boot/52-54-00-00-00-01.ipxe")
            #expect(install.contains("# Boot target 'install' for 52:54:00:00:00:01 (node1)"), "\(install)")
            #expect(install.contains("provision.server=http://10.0.0.1:8080"), "\(install)")

            try await objects.modify(Machine.self, id: "52:54:00:00:00:01") { $0.bootTarget = "local" }
            let local = try await script("/boot/52-54-00-00-00-01.ipxe")
            #expect(local.contains("Boot target 'local'") && local.contains("exit"), "\(local)")
        }
        engine.shutdown()
        await state.close()
    }
}
