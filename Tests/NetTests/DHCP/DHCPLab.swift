import Foundation
import Logging
import Net
import Synchronization
import TestSupport

/// A network namespace for clients, joined to the host by a veth pair the test owns: the responder
/// listens on the host end (bound to that device), the clients run in the namespace. Every name has the
/// test process's pid and a random suffix; `remove()` deletes the namespace, which deletes the pair.
final class DHCPLab: Sendable {
    let namespace: String
    let hostInterface: String
    let clientInterface: String
    /// `10.X.Y.0/24`, random, so labs of concurrent test runs do not meet.
    let subnet: IPv4Subnet
    var serverAddress: IPv4Address { IPv4Address(subnet.network.value + 1) }

    init() async throws {
        let tag = String(UInt32(ProcessInfo.processInfo.processIdentifier) & 0xffff, radix: 16) + String(UInt16.random(in: 0...0xfff), radix: 16)
        namespace = "pvdhcp-\(tag)"
        hostInterface = "pvdh\(tag)"
        clientInterface = "pvdc\(tag)"
        subnet = IPv4Subnet(network: IPv4Address(10, UInt8.random(in: 160...250), UInt8.random(in: 0...255), 0), prefixLength: 24)
        try await Self.ip(["netns", "add", namespace])
        do {
            try await Self.ip(["link", "add", hostInterface, "type", "veth", "peer", "name", clientInterface])
            try await Self.ip(["link", "set", clientInterface, "netns", namespace])
            try await Self.ip(["addr", "add", "\(serverAddress)/24", "dev", hostInterface])
            try await Self.ip(["link", "set", hostInterface, "up"])
            try await inside(["ip", "link", "set", "lo", "up"])
            try await inside(["ip", "link", "set", clientInterface, "up"])
        } catch {
            await remove()
            throw error
        }
    }

    func remove() async {
        killAll()
        _ = try? await ChildProcess.run("/usr/sbin/ip", ["netns", "del", namespace])
        _ = try? await ChildProcess.run("/usr/sbin/ip", ["link", "del", hostInterface])
    }

    func address(_ host: UInt32) -> IPv4Address { IPv4Address(subnet.network.value + host) }

    func network(_ mode: DHCPNetwork.Mode = .pool, name: String = "lab") -> DHCPNetwork {
        DHCPNetwork(
            name: name, interface: hostInterface, serverAddress: serverAddress, subnet: subnet, mode: mode,
            pool: IPv4Range(first: address(100), last: address(150)), router: serverAddress, dnsServers: [address(53)],
            domain: "lab.example", leaseTime: .seconds(600),
            boot: DHCPBootFiles(bios: "undionly.kpxe", uefiX64: "ipxe.efi", httpPort: 8080))
    }

    /// Runs a command inside the namespace; fails the test on a non-zero exit.
    @discardableResult
    func inside(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> String {
        let result = try await ChildProcess.run("/usr/sbin/ip", ["netns", "exec", namespace] + arguments, timeout: timeout)
        guard result.status == 0 else { throw LabError(description: "\(arguments.joined(separator: " ")): exit \(result.status): \(result.output)") }
        return result.output
    }

    /// Starts a client that stays running (dhclient, dhcpcd and its privilege-separation helpers), waits
    /// until it has written `file`, then stops every process in the namespace: all of them are the test's.
    func runUntil(_ arguments: [String], wrote file: String, timeout: Duration = .seconds(60)) async throws -> String {
        let client = try ChildProcess("/usr/sbin/ip", ["netns", "exec", namespace] + arguments)
        defer { killAll() }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), !text.isEmpty { return text }
            if !client.isRunning { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        if let text = try? String(contentsOfFile: file, encoding: .utf8), !text.isEmpty { return text }
        throw LabError(description: "\(arguments.joined(separator: " ")) wrote nothing to \(file): \(client.text)")
    }

    func killAll() {
        guard let pids = try? runSync("/usr/sbin/ip", ["netns", "pids", namespace]) else { return }
        for pid in pids.split(separator: "\n").compactMap({ Int32($0.trimmingCharacters(in: .whitespaces)) }) { kill(pid, SIGTERM) }
    }

    static func ip(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run("/usr/sbin/ip", arguments)
        guard result.status == 0 else { throw LabError(description: "ip \(arguments.joined(separator: " ")): \(result.output)") }
    }

    struct LabError: Error, CustomStringConvertible { var description: String }

    /// Runs a responder on the host end for the duration of `body`.
    func withResponder(
        _ networks: [DHCPNetwork], bootServerPort: Int? = nil, leases: MemoryDHCPLeaseStore = MemoryDHCPLeaseStore(),
        events: RecordingDHCPEventSink = RecordingDHCPEventSink(), _ body: () async throws -> Void
    ) async throws {
        var logger = Logger(label: "dhcp-test")
        logger.logLevel = .info
        let service = DHCPService(
            configuration: DHCPService.Configuration(networks: networks, bootServerPort: bootServerPort), leases: leases, events: events,
            logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            // The sockets are bound within milliseconds; clients retry anyway (DISCOVER every few seconds).
            try await Task.sleep(for: .milliseconds(300))
            do {
                try await body()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    /// Which DHCP clients are installed (`scripts/install-deps.sh dhcp`); under CI=true a missing one fails.
    static func tool(_ name: String) -> String? {
        ["/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func available(_ names: String...) -> Bool {
        guard getuid() == 0 else { return false }
        return RealServices.isCI || names.allSatisfy { tool($0) != nil }
    }

    static func require(_ name: String) throws -> String {
        guard let path = tool(name) else { throw LabError(description: "\(name) is not installed: run `scripts/install-deps.sh dhcp`") }
        return path
    }
}

/// Keeps every exchange event, for tests that check what was sent.
final class RecordingDHCPEventSink: DHCPEventSink {
    private let events = Mutex<[DHCPExchangeEvent]>([])
    init() {}
    func record(_ event: DHCPExchangeEvent) { events.withLock { $0.append(event) } }
    var all: [DHCPExchangeEvent] { events.withLock { $0 } }
}
