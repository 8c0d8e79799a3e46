public import Net

/// One network the appliance serves DHCP on, reached directly through an interface or through relays.
public struct NetworkConfig: Sendable, Hashable {
    /// How the DHCP responder treats this network: the responder's own modes, `pool`, `reservations`,
    /// `proxy` and `off`.
    public typealias Mode = DHCPNetwork.Mode

    public var name: String
    /// The interface the network is attached to; absent for networks reached only through relays.
    public var interface: String?
    /// The appliance's own address on this network (server identifier, next-server).
    public var address: IPv4Address?
    public var subnet: IPv4Subnet
    public var mode: Mode
    public var pool: IPv4Range?
    public var router: IPv4Address?
    public var dnsServers: [IPv4Address]
    public var domain: String?
    public var leaseTime: Duration
    public var boot: BootFiles
    /// Fixed addresses by MAC; in `reservations` mode, the only machines answered.
    public var reservations: [Reservation] = []
    /// Key leases by client identifier (option 61) instead of MAC: for networks of ordinary clients only.
    public var keyByClientID = false

    public init(
        name: String, interface: String? = nil, address: IPv4Address? = nil, subnet: IPv4Subnet, mode: Mode = .pool,
        pool: IPv4Range? = nil, router: IPv4Address? = nil, dnsServers: [IPv4Address] = [], domain: String? = nil,
        leaseTime: Duration = .seconds(3600), boot: BootFiles = BootFiles()
    ) {
        self.name = name
        self.interface = interface
        self.address = address
        self.subnet = subnet
        self.mode = mode
        self.pool = pool
        self.router = router
        self.dnsServers = dnsServers
        self.domain = domain
        self.leaseTime = leaseTime
        self.boot = boot
    }
}

/// A fixed address for one machine.
public struct Reservation: Sendable, Hashable {
    public var mac: String
    public var address: IPv4Address
    public var hostname: String?

    public init(mac: String, address: IPv4Address, hostname: String? = nil) {
        self.mac = mac
        self.address = address
        self.hostname = hostname
    }
}

/// The first-stage boot file per client architecture (RFC 4578 option 93), and what iPXE gets.
public struct BootFiles: Sendable, Hashable {
    /// Legacy BIOS PXE (arch 0).
    public var bios: String
    /// UEFI x86-64 (arch 7 and 9).
    public var uefiX64: String
    /// UEFI ARM64 (arch 11).
    public var uefiARM64: String
    /// UEFI HTTP boot (arch 16): a full http:// URL.
    public var uefiHTTP: String?

    public init(
        bios: String = "undionly.kpxe", uefiX64: String = "ipxe.efi", uefiARM64: String = "ipxe-arm64.efi",
        uefiHTTP: String? = nil
    ) {
        self.bios = bios
        self.uefiX64 = uefiX64
        self.uefiARM64 = uefiARM64
        self.uefiHTTP = uefiHTTP
    }
}
