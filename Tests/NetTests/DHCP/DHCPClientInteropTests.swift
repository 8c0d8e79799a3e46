import Foundation
import Net
import Testing
import TestSupport

/// Real DHCP clients in a network namespace against the responder on the other end of a veth pair:
/// ISC dhclient, busybox udhcpc and dhcpcd each get a lease with the configured options; perfdhcp as a
/// relay gets an address of the relayed subnet; udhcpc posing as PXE firmware gets the UEFI file or,
/// as iPXE, the script URL; proxyDHCP answers beside dnsmasq. Needs root; `scripts/install-deps.sh dhcp`.
@Suite(.serialized) struct DHCPClientInteropTests {
    func withLab(_ body: (DHCPLab, TemporaryDirectory) async throws -> Void) async throws {
        let lab = try await DHCPLab()
        let directory = try TemporaryDirectory("dhcp-interop")
        do {
            try await body(lab, directory)
        } catch {
            await lab.remove()
            directory.remove()
            throw error
        }
        await lab.remove()
        directory.remove()
    }

    /// `key=value` lines, as the clients' scripts and dhcpcd's test mode print them.
    static func values(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.hasPrefix("'") && value.hasSuffix("'") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            values[String(line[..<equals]).trimmingCharacters(in: .whitespaces)] = value
        }
        return values
    }

    static let envScript = "#!/bin/sh\n[ \"$1\" = bound ] && env > \"$(dirname \"$0\")/bound.env\"\nexit 0\n"

    /// busybox udhcpc with a script that saves what it was given.
    func udhcpc(_ lab: DHCPLab, _ directory: TemporaryDirectory, extra: [String] = [], interface: String? = nil) async throws -> [String: String] {
        let udhcpc = try DHCPLab.require("udhcpc")
        let script = directory.file("udhcpc.sh")
        try Self.envScript.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        try await lab.inside([udhcpc, "-i", interface ?? lab.clientInterface, "-n", "-q", "-f", "-t", "5", "-T", "2", "-s", script] + extra)
        return Self.values(try String(contentsOfFile: directory.file("bound.env"), encoding: .utf8))
    }

    @Test(.enabled(if: DHCPLab.available("udhcpc")))
    func busyboxUdhcpc() async throws {
        try await withLab { lab, directory in
            let leases = MemoryDHCPLeaseStore()
            try await lab.withResponder([lab.network()], leases: leases) {
                let env = try await udhcpc(lab, directory)
                #expect(env["ip"] == "\(lab.address(100))")
                #expect(env["subnet"] == "255.255.255.0")
                #expect(env["router"] == "\(lab.serverAddress)")
                #expect(env["dns"] == "\(lab.address(53))")
                #expect(env["domain"] == "lab.example")
                #expect(env["lease"] == "600")
                #expect(env["serverid"] == "\(lab.serverAddress)")
                #expect(env["boot_file"] == nil)
            }
            #expect(leases.all.map(\.state) == [.bound] && leases.all.first?.address == lab.address(100))
        }
    }

    @Test(.enabled(if: DHCPLab.available("dhclient")))
    func iscDhclient() async throws {
        let dhclient = try DHCPLab.require("dhclient")
        try await withLab { lab, directory in
            try await lab.withResponder([lab.network()]) {
                let config = directory.file("dhclient.conf")
                try "request subnet-mask, routers, domain-name, domain-name-servers, broadcast-address;\n"
                    .write(toFile: config, atomically: true, encoding: .utf8)
                let leaseFile = directory.file("dhclient.leases")
                let pidFile = directory.file("dhclient.pid")
                // -sf /bin/true: take the lease but leave the namespace's interface alone; -1: one try.
                try await lab.inside(
                    [dhclient, "-4", "-1", "-v", "-cf", config, "-sf", "/bin/true", "-lf", leaseFile, "-pf", pidFile, lab.clientInterface],
                    timeout: .seconds(90))
                if let pid = try? String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), let number = Int32(pid) {
                    kill(number, SIGTERM)
                }
                let lease = try String(contentsOfFile: leaseFile, encoding: .utf8)
                #expect(lease.contains("fixed-address \(lab.address(100));"), "\(lease)")
                #expect(lease.contains("option routers \(lab.serverAddress);"))
                #expect(lease.contains("option domain-name-servers \(lab.address(53));"))
                #expect(lease.contains("option domain-name \"lab.example\";"))
                #expect(lease.contains("option dhcp-lease-time 600;"))
            }
        }
    }

    @Test(.enabled(if: DHCPLab.available("dhcpcd")))
    func dhcpcd() async throws {
        let dhcpcd = try DHCPLab.require("dhcpcd")
        try await withLab { lab, directory in
            try await lab.withResponder([lab.network()]) {
                // --test: obtain a lease, print it, configure nothing and exit.
                let output = try await lab.inside(
                    [dhcpcd, "--test", "-4", "-f", "/dev/null", "-t", "30", "--noipv4ll", lab.clientInterface], timeout: .seconds(90))
                let values = Self.values(output)
                #expect(values["new_ip_address"] == "\(lab.address(100))", "\(output)")
                #expect(values["new_routers"] == "\(lab.serverAddress)")
                #expect(values["new_domain_name"] == "lab.example")
                #expect(values["new_domain_name_servers"] == "\(lab.address(53))")
                #expect(values["new_dhcp_lease_time"] == "600")
            }
        }
    }

    /// udhcpc sends option 60 and 93 as UEFI x86-64 firmware does, then as iPXE does (user class `iPXE`).
    @Test(.enabled(if: DHCPLab.available("udhcpc")))
    func pxeClients() async throws {
        try await withLab { lab, directory in
            try await lab.withResponder([lab.network()]) {
                let uefi = try await udhcpc(lab, directory, extra: ["-V", "PXEClient:Arch:00007:UNDI:003016", "-x", "0x5d:0007"])
                #expect(uefi["boot_file"] == "ipxe.efi")
                #expect(uefi["siaddr"] == "\(lab.serverAddress)")
                let ipxe = try await udhcpc(lab, directory, extra: ["-V", "PXEClient:Arch:00007:UNDI:003016", "-x", "0x5d:0007", "-x", "0x4d:69505845"])
                let mac = try await macAddress(lab)
                #expect(ipxe["boot_file"] == "http://\(lab.serverAddress):8080/boot/\(mac).ipxe")
            }
        }
    }

    func macAddress(_ lab: DHCPLab) async throws -> String {
        try await lab.inside(["cat", "/sys/class/net/\(lab.clientInterface)/address"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// perfdhcp as a relay: giaddr set to its own address in the relayed subnet, sent to the server's
    /// address; the lease comes from that subnet's pool and the replies go back to the relay on port 67.
    @Test(.enabled(if: DHCPLab.available("perfdhcp")))
    func relayedClient() async throws {
        let perfdhcp = try DHCPLab.require("perfdhcp")
        try await withLab { lab, _ in
            let relaySubnet = IPv4Subnet(network: IPv4Address(lab.subnet.network.value ^ 0x0001_0000), prefixLength: 24)
            let relay = IPv4Address(relaySubnet.network.value + 2)
            try await lab.inside(["ip", "addr", "add", "\(relay)/24", "dev", lab.clientInterface])
            try await DHCPLab.ip(["route", "add", "\(relaySubnet)", "dev", lab.hostInterface])
            let far = DHCPNetwork(
                name: "far", serverAddress: lab.serverAddress, subnet: relaySubnet,
                pool: IPv4Range(first: IPv4Address(relaySubnet.network.value + 100), last: IPv4Address(relaySubnet.network.value + 120)))
            let leases = MemoryDHCPLeaseStore()
            try await lab.withResponder([lab.network(), far], leases: leases) {
                let output = try await lab.inside([perfdhcp, "-4", "-l", "\(relay)", "-n", "2", "-r", "1", "-R", "2", "-W", "1000000", "\(lab.serverAddress)"],
                    timeout: .seconds(60))
                #expect(output.contains("received packets: 2"), "\(output)")
            }
            let bound = leases.all.filter { $0.state == .bound }
            #expect(!bound.isEmpty && bound.allSatisfy { $0.network == "far" && relaySubnet.contains($0.address) }, "\(leases.all)")
        }
    }
}
