import ArgumentParser
import Logging
import Metrics
import Prometheus
import Provision
import ServiceLifecycle
import StrictYAML
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the appliance: state store, responders and web server, until SIGTERM or SIGINT."
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let config = try options.loadConfig()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "provision")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "provision_build", unitName: "info", helpText: "Version of the running appliance"),
            labels: [("version", ProvisionVersion.string)]
        ).set(Int64(1))

        let appliance: Appliance
        do {
            appliance = try Appliance.open(config: config, registry: registry, logger: logger)
        } catch let diagnostics as Diagnostics {
            for item in diagnostics.items { printError("\(item)") }
            throw ExitCode.failure
        } catch {
            printError("\(options.config): \(error)")
            throw ExitCode.failure
        }
        logger.info("provision \(ProvisionVersion.string) starting", metadata: ["config": "\(options.config)"])
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: appliance.services(),
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
        try await group.run()
        logger.info("provision stopped")
    }
}
