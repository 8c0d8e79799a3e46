import Foundation
import NIOCore
import Net
import Testing
import TestSupport

/// Real captures: every DHCP datagram parses, renders to the committed golden text, writes back to the
/// same bytes, and every client request passes the validated view. `UPDATE_GOLDEN=1` rewrites the goldens.
@Suite struct DHCPPcapTests {
    static let captures = [
        "qemu-ipxe-bios-dhcp-tftp", "qemu-ipxe-http-chain", "qemu-ovmf-uefi-pxe", "pixiecore-pxe-discover-proxyoffer",
        "pixiecore-pxe-bios-proxydhcp-4011-tftp", "tcpdump-dhcp-relay-giaddr-leasequery-rfc4388", "tcpdump-dhcp-user-class-rfc3004",
    ]

    static func datagrams(_ capture: String) throws -> [PcapReader.Datagram] {
        let reader = try PcapReader(path: PackageRoot.path + "/../shared/testdata/pcap/\(capture).pcap")
        let ports: Set<UInt16> = [67, 68, 4011]
        return reader.datagrams.filter { ports.contains($0.sourcePort) || ports.contains($0.destinationPort) }
    }

    @Test(arguments: captures)
    func matchesGoldenAndRoundTrips(capture: String) throws {
        var lines: [String] = []
        for datagram in try Self.datagrams(capture) {
            var buffer = ByteBuffer(bytes: datagram.payload)
            let flow = "\(datagram.frame) \(datagram.source):\(datagram.sourcePort) > \(datagram.destination):\(datagram.destinationPort)"
            let message: DHCPMessage
            do {
                message = try DHCPMessage(parsing: &buffer)
            } catch {
                // tcpdump's test capture has deliberately broken frames: the golden pins the error each gets.
                lines.append("\(flow) MALFORMED \(error)")
                continue
            }
            var rewritten = message.bytes()
            #expect(try DHCPMessage(parsing: &rewritten) == message, "frame \(datagram.frame)")
            #expect(Array(message.bytes().readableBytesView) == datagram.payload, "frame \(datagram.frame)")
            if message.op == .request, let type = message.messageType, type.rawValue <= 8 {
                #expect(throws: Never.self, "frame \(datagram.frame)") { try DHCPRequest(message) }
            }
            lines.append("\(flow) \(message)")
        }
        #expect(!lines.isEmpty)
        let golden = PackageRoot.path + "/Tests/NetTests/DHCP/Golden/\(capture).parsed"
        if let mismatch = try goldenMismatch(lines.joined(separator: "\n") + "\n", path: golden) { Issue.record("\(mismatch)") }
    }

    /// What the firmware in our QEMU captures asked, answered by our responder: each gets the boot file
    /// for its architecture, iPXE gets its script URL, and the reply fits the size the client allows.
    @Test(arguments: ["qemu-ipxe-bios-dhcp-tftp", "qemu-ipxe-http-chain", "qemu-ovmf-uefi-pxe"])
    func firmwareRequestsGetTheirBootFile(capture: String) throws {
        let network = DHCPNetwork(
            name: "lab", interface: "pxe0", serverAddress: IPv4Address(10, 77, 0, 1), subnet: IPv4Subnet("10.77.0.0/24")!,
            pool: IPv4Range("10.77.0.100-10.77.0.200"), router: IPv4Address(10, 77, 0, 1),
            boot: DHCPBootFiles(bios: "undionly.kpxe", uefiX64: "ipxe.efi", httpPort: 8080))
        var responder = DHCPResponder(networks: [network])
        var answered = 0
        for datagram in try Self.datagrams(capture) where datagram.destinationPort == 67 {
            var buffer = ByteBuffer(bytes: datagram.payload)
            let request = try DHCPRequest(DHCPMessage(parsing: &buffer))
            guard request.type == .discover, request.isNetbootClient || request.isIPXE else { continue }
            guard case .reply(let reply) = responder.handle(request, on: DHCPLink(interface: "pxe0"), now: .init(timeIntervalSince1970: 0)) else {
                Issue.record("frame \(datagram.frame): no reply")
                continue
            }
            let file = reply.message.options.text(.bootfileName)
            if request.isIPXE {
                #expect(file == "http://10.77.0.1:8080/boot/52-54-00-77-00-01.ipxe", "frame \(datagram.frame)")
            } else if request.architectures.first == .uefiX64 {
                #expect(file == "ipxe.efi", "frame \(datagram.frame)")
            } else {
                #expect(file == "undionly.kpxe", "frame \(datagram.frame)")
            }
            #expect(reply.message.siaddr == IPv4Address(10, 77, 0, 1))
            #expect(reply.message.bytes(maxSize: reply.maxSize).readableBytes <= reply.maxSize)
            answered += 1
        }
        #expect(answered > 0)
    }
}
