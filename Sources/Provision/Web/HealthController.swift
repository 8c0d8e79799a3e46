import Foundation
import Hummingbird
import OSIS

/// `GET /healthz`: liveness plus store reachability. 200 when the store answers, 503 with the reason when
/// it does not, so a load balancer or systemd watchdog can tell a wedged appliance from a busy one.
struct HealthController: Sendable {
    let store: any KVStore

    struct Health: ResponseEncodable {
        var status: String
        var version: String
        var store: StoreHealth
    }

    struct StoreHealth: Codable {
        var backend: String
        var reachable: Bool
        var revision: Int64?
        var error: String?
    }

    func add(to router: Router<some RequestContext>) {
        router.get("healthz") { _, _ in try await self.health() }
    }

    func health() async throws -> EditedResponse<Health> {
        var storeHealth = StoreHealth(backend: store.backendName, reachable: true)
        do {
            try await store.ping()
            storeHealth.revision = try await store.currentRevision()
        } catch {
            storeHealth.reachable = false
            storeHealth.error = "\(error)"
        }
        let health = Health(status: storeHealth.reachable ? "ok" : "unavailable", version: ProvisionVersion.string, store: storeHealth)
        return EditedResponse(status: storeHealth.reachable ? .ok : .serviceUnavailable, response: health)
    }
}
