import Foundation
import OSIS
import Provision
import Testing
import TestSupport

/// `ApplianceState.open` opens the KV store the config names: SQLite by default, etcd when `state.etcd`
/// is set.
@Suite struct ApplianceStoreTests {
    func open(_ state: StateConfig, in directory: TemporaryDirectory) throws -> ApplianceState {
        try ApplianceState.open(ApplianceConfig(dataDirectory: directory.path, state: state))
    }

    @Test func opensTheEmbeddedSQLiteStoreByDefault() async throws {
        let directory = try TemporaryDirectory("appliance")
        defer { directory.remove() }
        let state = try open(StateConfig(), in: directory)
        #expect(state.kv.backendName == "sqlite")
        await state.close()
    }

    @Test func opensEtcdWhenConfigured() async throws {
        try await RealServices.with("PROVISION_TEST_ETCD_ENDPOINTS", service: "etcd") { endpoints in
            let directory = try TemporaryDirectory("appliance")
            defer { directory.remove() }
            let state = try open(StateConfig(etcdEndpoints: endpoints.split(separator: ",").map(String.init)), in: directory)
            #expect(state.kv.backendName == "etcd")
            try await state.kv.ping()
            #expect(try await state.kv.currentRevision() > 0)
            await state.close()
        }
    }

    @Test func refusesAnEndpointItCannotSpeakTo() throws {
        let directory = try TemporaryDirectory("appliance")
        defer { directory.remove() }
        #expect(throws: KVError.self) { try open(StateConfig(etcdEndpoints: ["https://10.0.0.5:2379"]), in: directory) }
    }
}
