public import Hummingbird
public import Logging
import Net
public import Prometheus
public import Workflow

/// The HTTP side of the appliance: one Hummingbird application whose routes come from small controllers.
public enum WebServer {
    /// The router, separate from the server so tests can drive it with `app.test(.router)`.
    public static func router(
        state: ApplianceState, engine: WorkflowEngine, registry: PrometheusCollectorRegistry, rules: [EnrollmentRule] = [],
        bootConfigs: BootConfigFiles? = nil, logger: Logger = Logger(label: "web")
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MetricsMiddleware())
        HealthController(store: state.kv).add(to: router)
        ViewsController(index: state.index).add(to: router)
        RunsController(engine: engine).add(to: router)
        MachinesController(registry: MachineRegistry(objects: engine.objects, engine: engine, rules: rules, logger: logger)).add(to: router)
        MetricsController(registry: registry).add(to: router)
        BootController(objects: engine.objects, bootConfigs: bootConfigs).add(to: router)
        return router
    }

    public static func application(
        config: HTTPConfig, state: ApplianceState, engine: WorkflowEngine, registry: PrometheusCollectorRegistry,
        rules: [EnrollmentRule], bootConfigs: BootConfigFiles? = nil, logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router(state: state, engine: engine, registry: registry, rules: rules, bootConfigs: bootConfigs, logger: logger),
            configuration: .init(address: .hostname(config.listen.host, port: config.listen.port), serverName: "provision"),
            onServerRunning: { channel in
                logger.info("http: listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            },
            logger: logger
        )
    }
}
