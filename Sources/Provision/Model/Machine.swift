public import Foundation
public import OSIS

/// A machine the appliance knows: enrolled by an operator, or discovered when it first asked for DHCP.
public struct Machine: OSISObject, Hashable {
    public static let kind = "machine"
    public static let viewColumns = [
        ViewColumn("mac"), ViewColumn("hostname", sparse: true), ViewColumn("state"), ViewColumn("progress", .integer),
        ViewColumn("architecture"), ViewColumn("address", sparse: true), ViewColumn("workflow", sparse: true), ViewColumn("updated", field: "updatedAt"),
    ]

    /// Where a machine is in its life on the appliance, as the status page shows it.
    public enum State: String, Codable, Sendable, CaseIterable {
        case discovered, enrolled, provisioning, provisioned, failed, retired
    }

    /// The MAC address in lower-case colon form; also the id, so one machine is one object.
    public var id: String { mac }
    public var mac: String
    public var hostname: String?
    public var state: State
    /// Percent of the current workflow done, 0 to 100.
    public var progress: Int
    public var architecture: String?
    public var address: String?
    /// The workflow run the machine is in, if any.
    public var workflow: String?
    /// The boot target its firmware is given: names the folder of boot config templates its
    /// `pxelinux.cfg/01-<mac>`, `grub.cfg-<mac>` and iPXE script are rendered from (`tftp.boot-configs`).
    /// nil: the configured default target.
    public var bootTarget: String?
    /// What the machine's agent or firmware reported (vendor, serial, UUID, …).
    public var facts: [String: String]
    public var updatedAt: Date

    public init(
        mac: String, hostname: String? = nil, state: State = .discovered, progress: Int = 0, architecture: String? = nil,
        address: String? = nil, workflow: String? = nil, bootTarget: String? = nil, facts: [String: String] = [:], updatedAt: Date = Date()
    ) {
        self.mac = mac
        self.hostname = hostname
        self.state = state
        self.progress = progress
        self.architecture = architecture
        self.address = address
        self.workflow = workflow
        self.bootTarget = bootTarget
        self.facts = facts
        self.updatedAt = updatedAt
    }
}
