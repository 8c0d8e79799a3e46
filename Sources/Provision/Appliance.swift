import Foundation
public import Logging
import Net
public import OSIS
public import Prometheus
public import ServiceLifecycle

/// The one place that wires the appliance together. `provision serve` and the end-to-end tests both
/// call `services(for:)`, so what runs in tests is what runs in production.
public struct Appliance {
    public let config: ApplianceConfig
    public let store: any KVStore
    public let registry: PrometheusCollectorRegistry
    public let logger: Logger

    /// Opens the state store the config names.
    public static func open(config: ApplianceConfig, registry: PrometheusCollectorRegistry, logger: Logger) throws -> Appliance {
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        guard config.state.etcdEndpoints.isEmpty else {
            throw ApplianceError.unsupported("state.etcd: the etcd KV backend is not available in this build; use state.sqlite")
        }
        guard config.state.postgresURL == nil else {
            throw ApplianceError.unsupported("state.postgres: PostgreSQL views are not available in this build")
        }
        let store = try SQLiteKV(path: config.resolve(config.state.sqlitePath))
        return Appliance(config: config, store: store, registry: registry, logger: logger)
    }

    /// Every service, in dependency order: the group starts them in this order and stops them in reverse.
    public func services() -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: StoreService(store: store, logger: logger))
        ]
        for line in unstartedResponders() { logger.notice("\(line)") }
        services.append(
            .init(service: WebServer.application(config: config.http, store: store, registry: registry, logger: logger)))
        return services
    }

    /// One line for each responder that does not start, saying why. The appliance never answers DHCP on a
    /// network nobody configured.
    func unstartedResponders() -> [String] {
        var lines: [String] = []
        if config.networks.isEmpty {
            lines.append("dhcp: not started: no network is configured (add one under 'networks:')")
        } else {
            lines.append("dhcp: not started: the DHCP responder is not part of this build")
        }
        lines.append("tftp: not started: the TFTP responder is not part of this build")
        lines.append("dns: not started: the DNS responder is not part of this build")
        return lines
    }
}

public enum ApplianceError: Error, CustomStringConvertible {
    case unsupported(String)

    public var description: String {
        switch self {
        case .unsupported(let why): return why
        }
    }
}
