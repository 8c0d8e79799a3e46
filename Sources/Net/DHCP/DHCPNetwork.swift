public import Foundation

/// One network as the responder sees it: where it is, what it hands out, and how it boots machines.
/// The appliance builds these from its config (`NetworkConfig`).
public struct DHCPNetwork: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Addresses from the pool for any client.
        case pool
        /// Answers only clients with a reservation.
        case reservations
        /// proxyDHCP: no addresses, boot information for PXE clients only, beside another DHCP server.
        case proxy
        /// Configured but silent.
        case off
    }

    public var name: String
    /// The interface it is attached to; nil for networks reached only through relays.
    public var interface: String?
    /// The appliance's address on it: server identifier and next-server. When nil, the receiving
    /// interface's address inside the subnet is used.
    public var serverAddress: IPv4Address?
    public var subnet: IPv4Subnet
    public var mode: Mode
    public var pool: IPv4Range?
    public var router: IPv4Address?
    public var dnsServers: [IPv4Address]
    public var domain: String?
    public var leaseTime: Duration
    public var reservations: [DHCPReservation]
    public var boot: DHCPBootFiles
    /// Leases keyed by client identifier (option 61) instead of hardware address: for ordinary clients
    /// only. On provisioning networks the ROM, iPXE, the installer and the OS each send their own client
    /// identifier, and keying by it would give one machine four leases.
    public var keyByClientIdentifier: Bool

    public init(
        name: String, interface: String? = nil, serverAddress: IPv4Address? = nil, subnet: IPv4Subnet, mode: Mode = .pool,
        pool: IPv4Range? = nil, router: IPv4Address? = nil, dnsServers: [IPv4Address] = [], domain: String? = nil,
        leaseTime: Duration = .seconds(3600), reservations: [DHCPReservation] = [], boot: DHCPBootFiles = DHCPBootFiles(),
        keyByClientIdentifier: Bool = false
    ) {
        self.name = name
        self.interface = interface
        self.serverAddress = serverAddress
        self.subnet = subnet
        self.mode = mode
        self.pool = pool
        self.router = router
        self.dnsServers = dnsServers
        self.domain = domain
        self.leaseTime = leaseTime
        self.reservations = reservations
        self.boot = boot
        self.keyByClientIdentifier = keyByClientIdentifier
    }

    public func reservation(for hardwareAddress: HardwareAddress) -> DHCPReservation? {
        reservations.first { $0.hardwareAddress == hardwareAddress }
    }
}

/// A fixed address for one machine (by MAC).
public struct DHCPReservation: Sendable, Hashable {
    public var hardwareAddress: HardwareAddress
    public var address: IPv4Address
    public var hostName: String?

    public init(hardwareAddress: HardwareAddress, address: IPv4Address, hostName: String? = nil) {
        self.hardwareAddress = hardwareAddress
        self.address = address
        self.hostName = hostName
    }
}

/// What a network boots, per client kind.
public struct DHCPBootFiles: Sendable, Hashable {
    /// Legacy BIOS PXE (arch 0), loaded over TFTP.
    public var bios: String
    /// UEFI x86-64 (arch 7 and 9).
    public var uefiX64: String
    /// UEFI ARM64 (arch 11).
    public var uefiARM64: String
    /// UEFI HTTP boot (arch 16 and 19): a full http:// URL.
    public var uefiHTTP: String?
    /// The appliance's base URL for iPXE (`http://host:port`): iPXE clients get `<base>/boot/<mac>.ipxe`.
    /// Nil: the server address on `httpPort`.
    public var httpBase: String?
    public var httpPort: Int

    public init(
        bios: String = "undionly.kpxe", uefiX64: String = "ipxe.efi", uefiARM64: String = "ipxe-arm64.efi", uefiHTTP: String? = nil,
        httpBase: String? = nil, httpPort: Int = 80
    ) {
        self.httpPort = httpPort
        self.bios = bios
        self.uefiX64 = uefiX64
        self.uefiARM64 = uefiARM64
        self.uefiHTTP = uefiHTTP
        self.httpBase = httpBase
    }
}

/// A lease as the responder keeps it, and as it is made durable.
///
/// Times are wall-clock `Date`s, unlike the rest of the cores' `ContinuousClock` instants: a lease's
/// expiry must mean the same thing after the appliance restarts.
public struct DHCPLease: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, Codable {
        case offered, bound, released, declined, expired
    }

    public var network: String
    public var address: IPv4Address
    public var hardwareAddress: HardwareAddress
    public var clientIdentifier: [UInt8]?
    public var state: State
    public var expires: Date
    public var hostName: String?

    public init(
        network: String, address: IPv4Address, hardwareAddress: HardwareAddress, clientIdentifier: [UInt8]? = nil, state: State,
        expires: Date, hostName: String? = nil
    ) {
        self.network = network
        self.address = address
        self.hardwareAddress = hardwareAddress
        self.clientIdentifier = clientIdentifier
        self.state = state
        self.expires = expires
        self.hostName = hostName
    }
}
