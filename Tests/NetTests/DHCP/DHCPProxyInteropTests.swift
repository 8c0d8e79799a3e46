import Foundation
import Net
import Testing
import TestSupport

/// proxyDHCP beside a real DHCP server: dnsmasq (unpacked from its Debian package, never installed) runs
/// in its own namespace on the same bridge as the client and the responder, and hands out the addresses.
/// An ordinary client (udhcpc) gets its lease from dnsmasq and nothing from us; a PXE DISCOVER gets
/// dnsmasq's address offer and our boot-only offer.
@Suite(.serialized) struct DHCPProxyInteropTests {
    @Test(.enabled(if: DHCPLab.available("udhcpc", "python3")))
    func proxyBesideDnsmasq() async throws {
        let udhcpc = try DHCPLab.require("udhcpc")
        let python = try DHCPLab.require("python3")
        let unpacked = try await ChildProcess.run(PackageRoot.path + "/scripts/peer-unpack.sh", ["dnsmasq-base"], timeout: .seconds(120))
        try #require(unpacked.status == 0, "\(unpacked.output)")
        let dnsmasq = unpacked.output.split(separator: "\n").last.map(String.init)! + "/usr/sbin/dnsmasq"

        let lab = try await DHCPLab()
        let directory = try TemporaryDirectory("dhcp-proxy")
        let peerNamespace = lab.namespace + "d"
        let bridge = "br0"
        let peer = "pvdd" + lab.hostInterface.dropFirst(4)
        let peerPort = "pvde" + lab.hostInterface.dropFirst(4)
        defer { directory.remove() }
        do {
            // Bridge in the client namespace: the responder's veth, dnsmasq's veth, and the client on br0.
            try await DHCPLab.ip(["netns", "add", peerNamespace])
            try await lab.inside(["ip", "link", "add", bridge, "type", "bridge"])
            try await lab.inside(["ip", "link", "set", lab.clientInterface, "master", bridge])
            try await lab.inside(["ip", "link", "add", peerPort, "type", "veth", "peer", "name", peer])
            try await lab.inside(["ip", "link", "set", peer, "netns", peerNamespace])
            try await lab.inside(["ip", "link", "set", peerPort, "master", bridge])
            try await lab.inside(["ip", "link", "set", peerPort, "up"])
            try await lab.inside(["ip", "link", "set", bridge, "up"])
            let peerIP = ["ip", "netns", "exec", peerNamespace, "ip"]
            for arguments in [["addr", "add", "\(lab.address(2))/24", "dev", peer], ["link", "set", peer, "up"], ["link", "set", "lo", "up"]] {
                let result = try await ChildProcess.run("/usr/sbin/ip", Array(peerIP.dropFirst()) + arguments)
                try #require(result.status == 0, "\(result.output)")
            }
            let server = try ChildProcess(
                "/usr/sbin/ip",
                [
                    "netns", "exec", peerNamespace, dnsmasq, "--no-daemon", "--conf-file=/dev/null", "--port=0", "--bind-interfaces",
                    "--interface=\(peer)", "--dhcp-range=\(lab.address(50)),\(lab.address(60)),1h", "--no-ping",
                    "--dhcp-leasefile=\(directory.file("dnsmasq.leases"))", "--pid-file=\(directory.file("dnsmasq.pid"))",
                    "--dhcp-authoritative", "--log-dhcp",
                ])
            defer { server.signal(SIGTERM) }
            let events = RecordingDHCPEventSink()
            try await lab.withResponder([lab.network(.proxy)], events: events) {
                // An ordinary client: dnsmasq's lease; we stay silent.
                let script = directory.file("udhcpc.sh")
                try DHCPClientInteropTests.envScript.write(toFile: script, atomically: true, encoding: .utf8)
                chmod(script, 0o755)
                try await lab.inside([udhcpc, "-i", bridge, "-n", "-q", "-f", "-t", "5", "-T", "2", "-s", script], timeout: .seconds(60))
                let env = DHCPClientInteropTests.values(try String(contentsOfFile: directory.file("bound.env"), encoding: .utf8))
                #expect(env["serverid"] == "\(lab.address(2))", "\(env)")
                #expect(env["ip"].flatMap(IPv4Address.init).map { $0 >= lab.address(50) && $0 <= lab.address(60) } == true)
                #expect(events.all.contains { $0.outcome == .dropped && $0.detail == "not_netboot" })
                #expect(!events.all.contains { $0.outcome == .replied })

                // PXE firmware: an address offer from dnsmasq, a boot offer from us.
                let probe = PackageRoot.path + "/Tests/NetTests/DHCP/pxe-probe.py"
                let output = try await lab.inside([python, probe, bridge, "52:54:00:aa:bb:01", "3"], timeout: .seconds(30))
                let offers = output.split(separator: "\n").map { DHCPClientInteropTests.values($0.split(separator: " ").joined(separator: "\n")) }
                let dnsmasqOffer = offers.first { $0["server"] == "\(lab.address(2))" }
                let proxyOffer = offers.first { $0["server"] == "\(lab.serverAddress)" }
                #expect(dnsmasqOffer?["yiaddr"].flatMap(IPv4Address.init).map { $0 >= lab.address(50) && $0 <= lab.address(60) } == true, "\(output)")
                #expect(proxyOffer?["yiaddr"] == "0.0.0.0", "\(output)")
                #expect(proxyOffer?["bootfile"] == "ipxe.efi" && proxyOffer?["file"] == "ipxe.efi")
                #expect(proxyOffer?["siaddr"] == "\(lab.serverAddress)" && proxyOffer?["vendor"] == "PXEClient")
                #expect(proxyOffer?["uuid"] == "00" + (0..<16).map { String(format: "%02x", $0) }.joined())
            }
        } catch {
            _ = try? await ChildProcess.run("/usr/sbin/ip", ["netns", "del", peerNamespace])
            await lab.remove()
            throw error
        }
        _ = try? await ChildProcess.run("/usr/sbin/ip", ["netns", "del", peerNamespace])
        await lab.remove()
    }
}
