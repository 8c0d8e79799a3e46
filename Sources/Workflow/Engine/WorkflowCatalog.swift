import Synchronization

/// The workflow specs the engine can run, by name and version. New runs use the newest version; a
/// run keeps the version it started with, so editing a spec never changes a run under way.
public final class WorkflowCatalog: Sendable {
    private let specs = Mutex<[String: [Int: WorkflowSpec]]>([:])

    public init(_ specs: [WorkflowSpec] = []) {
        for spec in specs { add(spec) }
    }

    public func add(_ spec: WorkflowSpec) {
        specs.withLock { $0[spec.name, default: [:]][spec.version] = spec }
    }

    public func spec(_ name: String, version: Int? = nil) -> WorkflowSpec? {
        specs.withLock { all in
            guard let versions = all[name] else { return nil }
            if let version { return versions[version] }
            return versions.max { $0.key < $1.key }?.value
        }
    }

    public var names: [String] { specs.withLock { $0.keys.sorted() } }
}
