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
            let events = RecordingDHCPEventSink()
            try await lab.withResponder([lab.network()], leases: leases, events: events) {
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
            // The boot trace: one event per exchange, each with both sides.
            let exchanges = events.all.map { "\($0.request)>\($0.reply.map { "\($0)" } ?? "-") \($0.outcome) \($0.address.map { "\($0)" } ?? "-")" }
            #expect(exchanges == ["DISCOVER>OFFER replied \(lab.address(100))", "REQUEST>ACK replied \(lab.address(100))"], "\(exchanges)")
            #expect(events.all.last?.requestedAddress == lab.address(100))
        }
    }

    /// dhclient and dhcpcd run their script with `reason` and `new_*` variables: it saves them once bound.
    static let reasonScript = "#!/bin/sh\n[ \"$reason\" = BOUND ] && env > \"$(dirname \"$0\")/bound.env\"\nexit 0\n"

    func expectConfigured(_ values: [String: String], _ lab: DHCPLab) {
        #expect(values["new_ip_address"] == "\(lab.address(100))", "\(values)")
        #expect(values["new_subnet_mask"] == "255.255.255.0")
        #expect(values["new_routers"] == "\(lab.serverAddress)")
        #expect(values["new_domain_name"] == "lab.example")
        #expect(values["new_domain_name_servers"] == "\(lab.address(53))")
        #expect(values["new_dhcp_lease_time"] == "600")
    }

    @Test(.enabled(if: DHCPLab.available("dhclient")))
    func iscDhclient() async throws {
        let dhclient = try DHCPLab.require("dhclient")
        try await withLab { lab, directory in
            try await lab.withResponder([lab.network()]) {
                let config = directory.file("dhclient.conf")
                try "request subnet-mask, routers, domain-name, domain-name-servers, broadcast-address;\n"
                    .write(toFile: config, atomically: true, encoding: .utf8)
                let script = directory.file("dhclient.sh")
                try Self.reasonScript.write(toFile: script, atomically: true, encoding: .utf8)
                chmod(script, 0o755)
                let env = try await lab.runUntil(
                    [dhclient, "-4", "-d", "-1", "-cf", config, "-sf", script, "-lf", directory.file("leases"), "-pf", directory.file("pid"),
                     lab.clientInterface],
                    wrote: directory.file("bound.env"))
                expectConfigured(Self.values(env), lab)
            }
        }
    }

    @Test(.enabled(if: DHCPLab.available("dhcpcd")))
    func dhcpcd() async throws {
        let dhcpcd = try DHCPLab.require("dhcpcd")
        try await withLab { lab, directory in
            try await lab.withResponder([lab.network()]) {
                let script = directory.file("dhcpcd.sh")
                try Self.reasonScript.write(toFile: script, atomically: true, encoding: .utf8)
                chmod(script, 0o755)
                // -B: stay in the foreground; -c: our script instead of the hooks (nothing on the host is touched).
                let env = try await lab.runUntil(
                    [dhcpcd, "-4", "-B", "-1", "-f", "/dev/null", "-c", script, "-t", "30", "--noipv4ll",
                     "-o", "domain_name", "-o", "domain_name_servers", "-o", "routers", lab.clientInterface],
                    wrote: directory.file("bound.env"))
                expectConfigured(Self.values(env), lab)
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
                #expect(ipxe["boot_file"] == "http://\(lab.serverAddress):8080/boot/\(mac.replacingOccurrences(of: ":", with: "-")).ipxe")
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
                // Two exchanges a second for 3 s. perfdhcp exits non-zero when the last DISCOVER is still
                // unanswered as the period ends, so its statistics are read instead of its status.
                let result = try await ChildProcess.run(
                    "/usr/sbin/ip", ["netns", "exec", lab.namespace, perfdhcp, "-4", "-l", "\(relay)", "-r", "2", "-p", "3", "-R", "4", "\(lab.serverAddress)"],
                    timeout: .seconds(60))
                let acks = result.output.components(separatedBy: "***Statistics for: REQUEST-ACK***").last ?? ""
                let received = acks.split(separator: "\n").first { $0.hasPrefix("received packets:") }.flatMap { Int($0.split(separator: " ").last!) }
                #expect((received ?? 0) >= 3, "\(result.output)")
            }
            let bound = leases.all.filter { $0.state == .bound }
            #expect(!bound.isEmpty && bound.allSatisfy { $0.network == "far" && relaySubnet.contains($0.address) }, "\(leases.all)")
        }
    }
}
