import Foundation
public import Logging
import Net
public import OSIS
import OSISPostgres
import StrictYAML
public import Workflow
public import Prometheus
public import ServiceLifecycle

/// The one place that wires the appliance together. `provision serve` and the end-to-end tests both
/// call `services(for:)`, so what runs in tests is what runs in production.
public struct Appliance {
    public let config: ApplianceConfig
    public let state: ApplianceState
    public let engine: WorkflowEngine
    public let registry: PrometheusCollectorRegistry
    public let logger: Logger
    /// The boot config templates (`tftp.boot-configs.templates`), nil when the folder does not exist.
    public let bootTemplates: BootTemplateSet?

    /// Opens the state the config names, loads the workflow catalog and builds the engine.
    public static func open(config: ApplianceConfig, registry: PrometheusCollectorRegistry, logger: Logger) throws -> Appliance {
        let actions = ApplianceActions.registry
        let catalog = try WorkflowService.loadCatalog(directory: config.workflowsDirectory, actions: actions)
        try checkWorkflowNames(config, catalog)
        // Templates are checked before anything opens, so a typo in one stops the start with FILE:LINE:COLUMN.
        let bootTemplates = try BootTemplateSet.load(directory: config.resolve(config.tftp.bootConfigs.templates))
        let state = try ApplianceState.open(config)
        let objects = ObjectStore(kv: state.kv)
        let engine = WorkflowEngine(
            objects: objects, catalog: catalog, actions: actions, node: config.state.node, logger: logger,
            machineAttributes: { mac in await Machine.attributes(mac, in: objects) })
        return Appliance(
            config: config, state: state, engine: engine, registry: registry, logger: logger, bootTemplates: bootTemplates)
    }

    /// Schedules and enrollment rules must name workflows that exist, or the appliance does not start.
    static func checkWorkflowNames(_ config: ApplianceConfig, _ catalog: WorkflowCatalog) throws(Diagnostics) {
        var problems: [Diagnostic] = []
        let known = catalog.names.joined(separator: ", ")
        for schedule in config.schedules where catalog.spec(schedule.workflow) == nil {
            problems.append(Diagnostic("schedule '\(schedule.name)': no workflow '\(schedule.workflow)' (known: \(known))", at: schedule.location))
        }
        for rule in config.enrollment where catalog.spec(rule.workflow) == nil {
            problems.append(Diagnostic("enrollment rule '\(rule.name)': no workflow '\(rule.workflow)' (known: \(known))", at: rule.location))
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
    }

    /// Every service, in dependency order: the group starts them in this order and stops them in reverse.
    public func services() -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: StoreService(store: state.kv, logger: logger)),
            .init(service: ViewService(projector: state.projector, logger: logger)),
            .init(service: WorkflowService(engine: engine, logger: logger)),
        ]
        if !config.schedules.isEmpty {
            services.append(.init(service: ScheduleService(schedules: config.schedules, engine: engine, logger: logger)))
        }
        for line in unstartedResponders() { logger.notice("\(line)") }
        if let dhcp = dhcpService() { services.append(.init(service: dhcp)) }
        if let tftp = tftpService() { services.append(.init(service: tftp)) }
        services += dnsServices()
        services.append(
            .init(service: WebServer.application(
                config: config.http, state: state, engine: engine, registry: registry, rules: config.enrollment,
                bootConfigs: bootConfigs(locator: MachineLocator(index: state.index)), logger: logger)))
        return services
    }

    /// One line for each responder that does not start, saying why. The appliance never answers DHCP on a
    /// network nobody configured.
    func unstartedResponders() -> [String] {
        var lines: [String] = []
        if config.networks.isEmpty {
            lines.append("dhcp: not started: no network is configured (add one under 'networks:')")
        } else if config.networks.allSatisfy({ $0.mode == .off }) {
            lines.append("dhcp: not started: every network has mode off")
        }
        if !config.tftp.enabled { lines.append("tftp: not started: disabled in the config (tftp.enabled)") }
        if config.dns.zones.isEmpty { lines.append("dns: not started: no zone is configured (add one under 'dns.zones:')") }
        return lines
    }
}

extension Appliance {
    /// The TFTP responder serving `tftp.root` (created if missing), or nil with a log line saying why.
    func tftpService() -> TFTPService? {
        guard config.tftp.enabled else { return nil }
        let root = config.resolve(config.tftp.root)
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let locator = MachineLocator(index: state.index)
            var uploads: TFTPUploadDirectory?
            if let upload = config.tftp.uploads {
                let directory = config.resolve(upload.directory)
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                uploads = try TFTPUploadDirectory(path: directory, overwrite: upload.overwrite, maxSize: upload.maxSize)
                logger.info("tftp: accepting uploads", metadata: ["directory": "\(directory)", "max-size": "\(upload.maxSize)"])
            }
            let cache = TFTPFileCache(capacity: config.tftp.cacheSize, maxFileSize: config.tftp.cacheMaxFile)
            return TFTPService(
                configuration: TFTPService.Configuration(listen: config.tftp.listen, limits: config.tftp.limits),
                files: tftpFiles(root: try TFTPRootDirectory(path: root, cache: cache), locator: locator), uploads: uploads,
                events: TFTPEventRecorder(engine: engine, locator: locator, log: LoggingTFTPEventSink(logger: logger)),
                logger: logger)
        } catch {
            logger.error("tftp: not started: \(error)", metadata: ["root": "\(root)"])
            return nil
        }
    }
}

extension Appliance {
    /// The DNS responder and the service that keeps its zones in step with the inventory; none without zones.
    func dnsServices() -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard !config.dns.zones.isEmpty else { return [] }
        let dns = config.dns
        let answers = DNSResponderState(DNSResponder(transferAllowList: Set(dns.transfer)))
        let service = DNSService(
            configuration: DNSService.Configuration(listen: dns.listen, upstreams: dns.upstreams), state: answers, logger: logger)
        let reserved = config.networks.flatMap(\.reservations).compactMap { reservation in
            reservation.hostname.map { InventoryZones.Host(name: $0, address: reservation.address) }
        }
        let zones = DNSZoneService(
            objects: ObjectStore(kv: state.kv), config: dns, reserved: reserved, state: answers, dns: service, logger: logger)
        return [.init(service: service), .init(service: zones)]
    }

    /// The TFTP root, with per-machine boot configs in front of it when there are templates.
    func tftpFiles(root: TFTPRootDirectory, locator: MachineLocator) -> any TFTPFileSource {
        let boot = config.tftp.bootConfigs
        guard let bootTemplates else {
            logger.notice("tftp: no per-machine boot configs: no template folder \(config.resolve(boot.templates))")
            return root
        }
        let targets = bootTemplates.targets.keys.sorted().joined(separator: ", ")
        logger.info("tftp: per-machine boot configs", metadata: ["targets": "\(targets)", "files": "\(boot.files.map(\.pattern))"])
        guard let provider = bootConfigs(locator: locator) else { return root }
        return VirtualFileSource(provider: provider, fallback: root)
    }

    /// The per-machine boot configs, shared by TFTP (by file name) and HTTP (`/boot/<mac>.ipxe`); nil
    /// without a template folder.
    func bootConfigs(locator: MachineLocator) -> BootConfigFiles? {
        guard let bootTemplates else { return nil }
        let boot = config.tftp.bootConfigs
        return BootConfigFiles(
            routes: boot.files, templates: bootTemplates, defaultTarget: boot.defaultTarget, server: config.http.publicURL,
            objects: engine.objects, locator: locator)
    }
}

/// The state backends a config names, opened: shared by `provision serve` and `provision osis`.
public struct ApplianceState: Sendable {
    public let kv: any KVStore
    public let views: any ViewStore

    public init(kv: any KVStore, views: any ViewStore) {
        self.kv = kv
        self.views = views
    }

    public static func open(_ config: ApplianceConfig) throws -> ApplianceState {
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let path = config.resolve(config.state.sqlitePath)
        let kv: any KVStore
        let sqliteViews: SQLiteViewStore
        if config.state.etcdEndpoints.isEmpty {
            let store = try SQLiteKV(path: path)
            kv = store
            sqliteViews = try SQLiteViewStore(sharingFileOf: store)
        } else {
            // Connects lazily: an unreachable cluster shows when StoreService first reads the revision.
            kv = try EtcdKV(endpoints: config.state.etcdEndpoints)
            sqliteViews = try SQLiteViewStore(path: path)
        }
        let views: any ViewStore = try config.state.postgresURL.map { try PostgresViewStore(url: $0) } ?? sqliteViews
        return ApplianceState(kv: kv, views: views)
    }

    public var index: ViewIndex { ViewIndex(views: views, definitions: ApplianceViews.definitions) }

    public var projector: ViewProjector { ViewProjector(kv: kv, views: views, definitions: ApplianceViews.definitions) }

    public func close() async {
        await views.close()
        await kv.close()
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
