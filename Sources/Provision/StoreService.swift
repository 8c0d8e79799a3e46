public import Logging
public import OSIS
public import ServiceLifecycle

/// Keeps the state store open for the life of the appliance and closes it last, after every responder
/// has stopped, so no acknowledged write is cut off.
public struct StoreService: Service, CustomStringConvertible {
    public let store: any KVStore
    let logger: Logger

    public init(store: any KVStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        let revision = try await store.currentRevision()
        logger.info("store: open", metadata: ["backend": "\(store.backendName)", "revision": "\(revision)"])
        // Nothing to do until shutdown; the group stops services in reverse order, so this ends last.
        try? await gracefulShutdown()
        await store.close()
        logger.info("store: closed")
    }
}

extension StoreService {
    /// What ServiceLifecycle logs for this service: its name, not every stored property.
    public var description: String { "StoreService" }
}
