import Foundation
public import StrictYAML
import Net

extension ApplianceConfig {
    /// Reads and checks a config file. Every problem is reported at once, each as `FILE:LINE:COLUMN: message`.
    public static func load(file: String) throws(Diagnostics) -> ApplianceConfig {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw Diagnostics([Diagnostic("cannot read config file: \(error.localizedDescription)", at: .init(file: file, line: 1, column: 1))])
        }
        var config = try parse(text, file: file)
        if let workflows = config.workflowsDirectory, !workflows.hasPrefix("/") {
            let base = URL(fileURLWithPath: file).deletingLastPathComponent().path
            config.workflowsDirectory = URL(fileURLWithPath: base + "/" + workflows).standardizedFileURL.path
        }
        if !config.tftp.bootConfigs.templates.hasPrefix("/") {
            let base = URL(fileURLWithPath: file).deletingLastPathComponent().path
            config.tftp.bootConfigs.templates = URL(fileURLWithPath: base + "/" + config.tftp.bootConfigs.templates).standardizedFileURL.path
        }
        return config
    }

    /// Reads and checks config text; `file` names it in diagnostics.
    public static func parse(_ text: String, file: String) throws(Diagnostics) -> ApplianceConfig {
        let log = DiagnosticLog()
        let config = YAMLNode.parse(text, file: file, log: log).flatMap { ApplianceConfig(reading: $0) }
        try log.throwIfAny()
        guard let config else {
            throw Diagnostics([Diagnostic("the config is empty", at: .init(file: file, line: 1, column: 1))])
        }
        return config
    }

    init?(reading node: YAMLNode) {
        guard let top = node.mapping() else { return nil }
        var config = ApplianceConfig()
        if let value = top["data-dir"]?.absolutePath() { config.dataDirectory = value }
        if let state = top["state"]?.mapping() { config.state = StateConfig(reading: state) }
        if let http = top["http"]?.mapping() { config.http = HTTPConfig(reading: http) }
        if let tftp = top["tftp"]?.mapping() { config.tftp = TFTPConfig(reading: tftp) }
        if let dns = top["dns"]?.mapping() { config.dns = DNSConfig(reading: dns) }
        if let value = top["images"]?.string() { config.imagesDirectory = value }
        if let value = top["workflows"]?.string() { config.workflowsDirectory = value }
        if let value = top["log-level"]?.oneOf(["trace", "debug", "info", "notice", "warning", "error", "critical"]) {
            config.logLevel = value
        }
        if let networks = top["networks"]?.list({ $0.mapping().flatMap(NetworkConfig.init(reading:)) }) {
            config.networks = networks
            for (index, network) in networks.enumerated() where networks[..<index].contains(where: { $0.name == network.name }) {
                top["networks"]?.error("network name '\(network.name)' is used twice")
            }
        }
        config.schedules = top["schedules"]?.list { $0.mapping().flatMap(ScheduleConfig.init(reading:)) } ?? []
        config.enrollment = top["enrollment"]?.list { $0.mapping().flatMap(EnrollmentRule.init(reading:)) } ?? []
        top.finish()
        self = config
    }
}

extension StateConfig {
    init(reading map: YAMLMapping) {
        self.init()
        if let value = map["sqlite"]?.string() { sqlitePath = value }
        if let etcd = map["etcd"], let endpoints = etcd.list() {
            if endpoints.isEmpty { etcd.error("etcd needs at least one endpoint URL") }
            etcdEndpoints = endpoints.compactMap { $0.url(schemes: ["http", "https"]) }
        }
        postgresURL = map["postgres"]?.url(schemes: ["postgres", "postgresql"])
        node = map["node"]?.string()
        map.finish()
    }
}

extension HTTPConfig {
    init(reading map: YAMLMapping) {
        self.init()
        if let value = map["listen"]?.listenAddress() { listen = value }
        publicURL = map["public-url"]?.url(schemes: ["http", "https"])
        map.finish()
    }
}

extension TFTPConfig {
    init(reading map: YAMLMapping) {
        self.init()
        if let value = map["enabled"]?.bool() { enabled = value }
        if let value = map["listen"]?.listenAddress() { listen = value }
        if let value = map["root"]?.string() { root = value }
        if let boot = map["boot-configs"]?.mapping() { bootConfigs = BootConfigsConfig(reading: boot) }
        if let uploads = map["uploads"]?.mapping() { self.uploads = TFTPUploadsConfig(reading: uploads) }
        if let value = map["max-block-size"]?.int(in: 8...65464) { limits.maxBlockSize = value }
        if let value = map["max-window"]?.int(in: 1...65535) { limits.maxWindowSize = value }
        if let value = map["max-window-bytes"]?.byteSize(examples: "98304, 96KiB or 4MiB") { limits.maxWindowBytes = value }
        if let value = map["cache-size"]?.byteSize(examples: "268435456, 256MiB or 1GiB") { cacheSize = value }
        if let value = map["cache-max-file"]?.byteSize(examples: "33554432, 32MiB or 128MiB") { cacheMaxFile = value }
        map.finish()
    }
}

extension TFTPUploadsConfig {
    init(reading map: YAMLMapping) {
        self.init()
        if let value = map["directory"]?.string() { directory = value }
        if let value = map["overwrite"]?.bool() { overwrite = value }
        if let value = map["max-size"]?.byteSize(examples: "67108864, 512KiB, 64MiB or 1GiB") { maxSize = value }
        map.finish()
    }
}

extension BootConfigsConfig {
    init(reading map: YAMLMapping) {
        self.init()
        if let value = map["templates"]?.string() { templates = value }
        if let value = map["default-target"]?.string() { defaultTarget = value }
        if let files = map["files"]?.mapping() {
            self.files = files.keys.compactMap { pattern in
                guard let node = files[pattern], let template = node.string() else { return nil }
                if pattern.components(separatedBy: "{mac}").count > 2 { node.error("'\(pattern)' may hold '{mac}' once") }
                if template.isEmpty || template.contains("/") { node.error("'\(template)' is not a template file name") }
                return BootConfigFiles.Route(pattern, template: template)
            }
        }
        map.finish()
    }
}

extension NetworkConfig {
    init?(reading map: YAMLMapping) {
        let name = map.required("name")?.string()
        let subnetNode = map.required("subnet")
        let subnet = subnetNode?.parsed("a subnet in CIDR form, e.g. 10.0.0.0/24", IPv4Subnet.init)
        let mode = map["mode"]?.oneOf(Mode.allCases.map(\.rawValue)).flatMap(Mode.init(rawValue:)) ?? .pool
        let interface = map["interface"]?.string()
        let address = map["address"]?.ipv4()
        let poolNode = map["pool"]
        let pool = poolNode?.parsed("an address range, e.g. 10.0.0.100-10.0.0.199", IPv4Range.init)
        let router = map["router"]?.ipv4()
        let dnsServers = map["dns-servers"]?.list { $0.ipv4() } ?? []
        let domain = map["domain"]?.string()
        let leaseTime = map["lease-time"]?.duration() ?? .seconds(3600)
        let boot = map["boot"]?.mapping().map(BootFiles.init(reading:)) ?? BootFiles()
        let reservations = map["reservations"]?.list { $0.mapping().flatMap(Reservation.init(reading:)) } ?? []
        let keyByClientID = map["key-by-client-id"]?.bool() ?? false
        map.finish()
        guard let name, let subnet else { return nil }

        // Cross-field rules: a pool network needs a pool, and every address must sit in the subnet.
        if mode == .pool && pool == nil { map.owner.error("network '\(name)' has mode pool but no 'pool' range") }
        if let pool, let poolNode, !(subnet.contains(pool.first) && subnet.contains(pool.last)) {
            poolNode.error("pool \(pool) is not inside subnet \(subnet)")
        }
        for (key, value) in [("router", router), ("address", address)] {
            if let value, !subnet.contains(value) { map[key]?.error("\(key) \(value) is not inside subnet \(subnet)") }
        }
        if leaseTime < .seconds(60) { map["lease-time"]?.error("lease-time must be at least 60s") }
        if mode == .reservations && reservations.isEmpty { map.owner.error("network '\(name)' has mode reservations but no 'reservations'") }
        for (index, reservation) in reservations.enumerated() {
            let node = map["reservations"]
            if !subnet.contains(reservation.address) { node?.error("reservation \(reservation.address) is not inside subnet \(subnet)") }
            if reservations[..<index].contains(where: { $0.mac == reservation.mac }) { node?.error("MAC \(reservation.mac) is reserved twice") }
            if reservations[..<index].contains(where: { $0.address == reservation.address }) {
                node?.error("address \(reservation.address) is reserved twice")
            }
        }
        self.init(
            name: name, interface: interface, address: address, subnet: subnet, mode: mode, pool: pool, router: router,
            dnsServers: dnsServers, domain: domain, leaseTime: leaseTime, boot: boot)
        self.reservations = reservations
        self.keyByClientID = keyByClientID
    }
}

extension Reservation {
    init?(reading map: YAMLMapping) {
        let mac = map.required("mac")?.parsed("a MAC address (aa:bb:cc:dd:ee:ff)") { text in HardwareAddress(mac: text).map { "\($0)" } }
        let address = map.required("address")?.ipv4()
        let hostname = map["hostname"]?.string()
        map.finish()
        guard let mac, let address else { return nil }
        self.init(mac: mac, address: address, hostname: hostname)
    }
}

extension BootFiles {
    init(reading map: YAMLMapping) {
        self.init()
        if let value = map["bios"]?.string() { bios = value }
        if let value = map["uefi-x64"]?.string() { uefiX64 = value }
        if let value = map["uefi-arm64"]?.string() { uefiARM64 = value }
        uefiHTTP = map["uefi-http"]?.url(schemes: ["http", "https"])
        map.finish()
    }
}

extension YAMLNode {
    /// A string that `parse` accepts, or a diagnostic naming what was expected.
    func parsed<T>(_ expected: String, _ parse: (String) -> T?) -> T? {
        guard let text = string() else { return nil }
        guard let value = parse(text) else {
            error("'\(text)' is not \(expected)")
            return nil
        }
        return value
    }

    func ipv4() -> IPv4Address? { parsed("an IPv4 address", IPv4Address.init) }

    /// Digits with an optional binary unit: `4096`, `512KiB`, `64MiB`, `1GiB` (`K`, `M`, `G` alike).
    func byteSize(examples: String) -> Int? {
        parsed("a size in bytes, e.g. \(examples)") { text in
            let digits = text.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 12, let value = Int(digits) else { return nil }
            let units: [String: Int] = ["": 1, "K": 1 << 10, "KiB": 1 << 10, "M": 1 << 20, "MiB": 1 << 20, "G": 1 << 30, "GiB": 1 << 30]
            guard let unit = units[String(text.dropFirst(digits.count))], value > 0 else { return nil }
            return value * unit
        }
    }

    func listenAddress() -> ListenAddress? { parsed("a listen address (host:port)", ListenAddress.init) }

    func absolutePath() -> String? {
        guard let text = string() else { return nil }
        guard text.hasPrefix("/") else {
            error("'\(text)' must be an absolute path")
            return nil
        }
        return text
    }

    func url(schemes: [String]) -> String? {
        parsed("a URL (\(schemes.map { $0 + "://…" }.joined(separator: " or ")))") { text in
            guard let url = URL(string: text), let scheme = url.scheme, schemes.contains(scheme), url.host != nil
            else { return nil }
            return text
        }
    }
}
