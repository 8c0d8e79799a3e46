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
    /// Per-machine boot configs rendered from the store.
    public var bootConfigs: BootConfigsConfig
    /// Where WRQ uploads land; nil (the default) refuses them.
    public var uploads: TFTPUploadsConfig?
    /// The largest block size and window clients are granted (`max-block-size`, `max-window`,
    /// `max-window-bytes`).
    public var limits: TFTPLimits
    /// Memory for whole files served from RAM (`cache-size`), and the largest file kept there
    /// (`cache-max-file`): raise it so installer initrds fetched by a whole rack are read once.
    public var cacheSize: Int
    public var cacheMaxFile: Int

    public init(
        enabled: Bool = true, listen: ListenAddress = ListenAddress(host: "0.0.0.0", port: 69), root: String = "tftp",
        bootConfigs: BootConfigsConfig = BootConfigsConfig(), uploads: TFTPUploadsConfig? = nil, limits: TFTPLimits = TFTPLimits(),
        cacheSize: Int = 256 << 20, cacheMaxFile: Int = 32 << 20
    ) {
        self.enabled = enabled
        self.listen = listen
        self.root = root
        self.bootConfigs = bootConfigs
        self.uploads = uploads
        self.limits = limits
        self.cacheSize = cacheSize
        self.cacheMaxFile = cacheMaxFile
    }
}

/// TFTP uploads (WRQ): accepted only into this directory, confined like reads.
public struct TFTPUploadsConfig: Sendable, Hashable {
    /// Created if missing; relative to the data directory.
    public var directory: String
    /// Whether an upload may replace an existing file (ERROR 6 otherwise).
    public var overwrite: Bool
    /// Largest upload accepted, in bytes (ERROR 3 beyond it).
    public var maxSize: Int

    public init(directory: String = "uploads", overwrite: Bool = false, maxSize: Int = 64 << 20) {
        self.directory = directory
        self.overwrite = overwrite
        self.maxSize = maxSize
    }
}

/// Per-machine boot configs (`pxelinux.cfg/01-<mac>`, `grub.cfg-<mac>`, an iPXE script) served over TFTP,
/// rendered from templates and the machine's data in the store (see `BootConfigFiles`).
public struct BootConfigsConfig: Sendable, Hashable {
    /// One folder per boot target, each holding templates; relative to the config file. When it does not
    /// exist, no boot config is rendered and the TFTP root alone answers.
    public var templates: String
    /// The target of a machine that has none.
    public var defaultTarget: String
    /// Virtual file name patterns (`{mac}` matches a MAC written with `-` or `:`) and the template each renders.
    public var files: [BootConfigFiles.Route]

    public init(templates: String = "boot", defaultTarget: String = "local", files: [BootConfigFiles.Route] = BootConfigFiles.defaultRoutes) {
        self.templates = templates
        self.defaultTarget = defaultTarget
        self.files = files
    }
}
