public import Foundation
public import OSIS

/// A DHCP lease: an address bound to a machine's hardware address on a network until it expires.
public struct Lease: OSISObject, Hashable {
    public static let kind = "lease"
    public static let viewColumns = [
        ViewColumn("address"), ViewColumn("mac"), ViewColumn("network"), ViewColumn("state"), ViewColumn("hostname", sparse: true),
        ViewColumn("expires", field: "expiresAt"),
    ]

    public enum State: String, Codable, Sendable { case offered, bound, released, declined, expired }

    /// `<network>-<address>`: one lease per address per network.
    public var id: String { "\(network)-\(address)" }
    public var network: String
    public var address: String
    public var mac: String
    public var state: State
    public var hostname: String?
    public var expiresAt: Date
    /// The client identifier (option 61) in hex, on networks that key leases by it (`key-by-client-id`),
    /// so the holder is still known after a restart.
    public var clientID: String?

    public init(
        network: String, address: String, mac: String, state: State, hostname: String? = nil, expiresAt: Date, clientID: String? = nil
    ) {
        self.network = network
        self.address = address
        self.mac = mac
        self.state = state
        self.hostname = hostname
        self.expiresAt = expiresAt
        self.clientID = clientID
    }
}
