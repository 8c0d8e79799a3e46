import Foundation
public import Logging
public import Net
public import OSIS
public import ServiceLifecycle

/// Keeps the DNS responder's zones in step with the inventory: builds them once from the store, then
/// watches machines, leases and imported zones and rebuilds on every change, so a machine that gets an
/// address resolves by name and address at once. Changed zones get a higher serial and a NOTIFY.
/// DHCP reservations with a host name resolve from the start, before their machine ever asks for a lease.
public struct DNSZoneService: Service, CustomStringConvertible {
    let objects: ObjectStore
    let zones: InventoryZones
    let reserved: [InventoryZones.Host]
    let state: DNSResponderState
    let dns: DNSService
    let logger: Logger

    public init(
        objects: ObjectStore, config: DNSConfig, reserved: [InventoryZones.Host] = [], state: DNSResponderState, dns: DNSService,
        logger: Logger
    ) {
        self.objects = objects
        self.zones = InventoryZones(config: config)
        self.reserved = reserved
        self.state = state
        self.dns = dns
        self.logger = logger
    }

    static let watched = [Machine.kind, Lease.kind, ImportedZone.kind].map { ObjectStore.key(kind: $0, id: "") }

    /// Zones are rebuilt at most this often. In a burst of changes (a rack booting, leases renewing by the
    /// hundred) each change would otherwise rebuild every zone from the whole inventory; a change still
    /// resolves well within a second.
    static let rebuildInterval: Duration = .milliseconds(200)

    public func run() async throws {
        var revision = try await objects.kv.currentRevision()
        try await rebuild()
        // Changes are signalled, not queued: any number of them during a rebuild and its rest make one more.
        let (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in changes {
                    do { try await rebuild() } catch { logger.error("dns: zones not rebuilt: \(error)") }
                    try? await Task.sleep(for: Self.rebuildInterval)
                }
            }
            defer { changed.finish() }
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    for try await batch in objects.kv.watch(prefix: ObjectStore.prefix, after: revision).cancelOnGracefulShutdown() {
                        guard let last = batch.last else { continue }
                        revision = last.revision
                        if batch.contains(where: { event in Self.watched.contains { event.keyValue.key.hasPrefix($0) } }) {
                            changed.yield()
                        }
                    }
                    return
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isShuttingDownGracefully { return }
                    logger.error("dns: inventory watch failed, rebuilding: \(error)")
                    try? await Task.sleep(for: .seconds(1))
                    revision = (try? await objects.kv.currentRevision()) ?? revision
                    changed.yield()
                }
            }
        }
    }

    /// Reads the inventory and installs the zones built from it.
    func rebuild() async throws {
        let machines = try await objects.all(Machine.self).map(\.object)
        let leases = try await objects.all(Lease.self).map(\.object)
        let imported = try await objects.all(ImportedZone.self).map(\.object)
        var hosts = reserved
        for machine in machines where machine.state != .retired {
            if let name = machine.hostname, let address = machine.address.flatMap(IPv4Address.init) {
                hosts.append(.init(name: name, address: address))
            }
        }
        let now = Date()
        for lease in leases where lease.state == .bound && lease.expiresAt > now {
            if let name = lease.hostname, let address = IPv4Address(lease.address) { hosts.append(.init(name: name, address: address)) }
        }
        let (built, problems) = zones.build(hosts: hosts, imported: imported, serial: InventoryZones.clockSerial())
        for problem in problems { logger.warning("dns: record left out: \(problem)") }
        let changed = state.update(zones: built)
        if !changed.isEmpty {
            logger.debug("dns: zones updated", metadata: ["zones": "\(changed.map(\.description).joined(separator: " "))", "hosts": "\(hosts.count)"])
            await dns.notify(changed, secondaries: zones.config.notify)
        }
    }
}

extension DNSZoneService {
    /// What ServiceLifecycle logs for this service: its name, not every stored property.
    public var description: String { "DNSZoneService" }
}
