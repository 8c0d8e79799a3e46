public import Logging
public import OSIS
public import ServiceLifecycle

/// Runs the view projector for the life of the appliance, so the SQL views follow the KV store.
public struct ViewService: Service, CustomStringConvertible {
    let projector: ViewProjector
    let logger: Logger

    public init(projector: ViewProjector, logger: Logger) {
        self.projector = projector
        self.logger = logger
    }

    public func run() async throws {
        try await projector.prepare()
        let applied = try await projector.views.appliedRevision()
        logger.info("views: following the store", metadata: ["backend": "\(projector.views.backendName)", "from": "\(applied)"])
        try await cancelWhenGracefulShutdown {
            do {
                try await projector.run()
            } catch is CancellationError {
            }
        }
        await projector.views.close()
    }
}

extension ViewService {
    /// What ServiceLifecycle logs for this service: its name, not every stored property.
    public var description: String { "ViewService" }
}
