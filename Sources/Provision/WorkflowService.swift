import Foundation
public import Logging
import OSIS
public import ServiceLifecycle
public import StrictYAML
public import Workflow

/// Runs the workflow engine for the life of the appliance: resumes unfinished runs at start, and on
/// shutdown stops driving runs (their state stays in the store for the next start).
public struct WorkflowService: Service, CustomStringConvertible {
    public let engine: WorkflowEngine
    let logger: Logger

    public init(engine: WorkflowEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    public func run() async throws {
        try await engine.recover()
        logger.info("workflow: engine running", metadata: ["workflows": "\(engine.catalog.names.joined(separator: ", "))"])
        try? await gracefulShutdown()
        engine.shutdown()
        logger.info("workflow: stopped", metadata: ["active runs left for the next start": "\(engine.activeRuns)"])
    }

    /// The spec files of a directory (`*.yaml`, `*.yml`, sorted), loaded and validated. Throws every
    /// problem of every file at once.
    public static func loadCatalog(directory: String?, actions: ActionRegistry) throws(Diagnostics) -> WorkflowCatalog {
        guard let directory else { return WorkflowCatalog() }
        let files = specFiles(in: directory)
        let log = DiagnosticLog()
        let specs = SpecLoader(log: log).loadAndValidate(files: files, actions: actions)
        try log.throwIfAny()
        return WorkflowCatalog(specs)
    }

    /// The spec files directly in `directory` (sub-folders hold included step groups).
    public static func specFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { directory + "/" + $0 }
    }
}

extension WorkflowService {
    /// What ServiceLifecycle logs for this service: its name, not every stored property.
    public var description: String { "WorkflowService" }
}
