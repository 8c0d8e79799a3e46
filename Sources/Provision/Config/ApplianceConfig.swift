public import Net

/// The appliance's configuration: where state lives, what listens where, and the networks it serves.
///
/// Read from YAML by `ApplianceConfig.load(file:)`, which rejects unknown keys, wrong types and missing
/// values with `FILE:LINE:COLUMN: message` before anything starts. `appliance/appliance.yaml` documents
/// every key and its default.
public struct ApplianceConfig: Sendable, Hashable {
    /// Directory that relative paths in the config resolve against.
    public var dataDirectory: String
    public var state: StateConfig
    public var http: HTTPConfig
    public var tftp: TFTPConfig
    public var dns: DNSConfig = DNSConfig()
    /// Where machine images are kept.
    public var imagesDirectory: String
    /// Workflow spec files (`*.yaml`); relative to the config file's directory.
    public var workflowsDirectory: String?
    public var logLevel: String
    public var networks: [NetworkConfig]
    public var schedules: [ScheduleConfig] = []
    public var enrollment: [EnrollmentRule] = []

    public init(
        dataDirectory: String = "/var/lib/provision",
        state: StateConfig = StateConfig(),
        http: HTTPConfig = HTTPConfig(),
        tftp: TFTPConfig = TFTPConfig(),
        imagesDirectory: String = "images",
        workflowsDirectory: String? = nil,
        logLevel: String = "info",
        networks: [NetworkConfig] = []
    ) {
        self.dataDirectory = dataDirectory
        self.state = state
        self.http = http
        self.tftp = tftp
        self.imagesDirectory = imagesDirectory
        self.workflowsDirectory = workflowsDirectory
        self.logLevel = logLevel
        self.networks = networks
    }

    /// `path` made absolute against the data directory.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : dataDirectory + "/" + path
    }
}

/// Where the appliance keeps its state: the KV store and the SQL views projected from it.
public struct StateConfig: Sendable, Hashable {
    /// The embedded SQLite file (KV store, and views unless `postgres` is set).
    public var sqlitePath: String
    /// etcd v3 client URLs; when set, the KV store lives on this etcd cluster instead of SQLite.
    public var etcdEndpoints: [String]
    /// PostgreSQL URL; when set, the views live there instead of SQLite.
    public var postgresURL: String?
    /// This appliance's name among nodes sharing one store (defaults to the host name): the owner of
    /// the workflow runs it drives.
    public var node: String?

    public init(sqlitePath: String = "state.sqlite", etcdEndpoints: [String] = [], postgresURL: String? = nil, node: String? = nil) {
        self.node = node
        self.sqlitePath = sqlitePath
        self.etcdEndpoints = etcdEndpoints
        self.postgresURL = postgresURL
    }
}

/// The HTTP server: REST API, status page, HTTP boot, `/healthz`, `/metrics`.
public struct HTTPConfig: Sendable, Hashable {
    public var listen: ListenAddress
    /// The base URL booting machines use to reach this appliance (iPXE scripts, HTTP boot). Defaults
    /// to the address each network's interface has.
    public var publicURL: String?

    public init(listen: ListenAddress = ListenAddress(host: "0.0.0.0", port: 8080), publicURL: String? = nil) {
        self.listen = listen
        self.publicURL = publicURL
    }
}

/// The TFTP responder.
public struct TFTPConfig: Sendable, Hashable {
    public var enabled: Bool
    public var listen: ListenAddress
    /// Files served; nothing outside it is ever read.
    public var root: String

    public init(enabled: Bool = true, listen: ListenAddress = ListenAddress(host: "0.0.0.0", port: 69), root: String = "tftp") {
        self.enabled = enabled
        self.listen = listen
        self.root = root
    }
}
