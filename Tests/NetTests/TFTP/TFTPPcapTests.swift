import NIOCore
import Net
import Testing
import TestSupport

/// Real captures: every TFTP datagram parses, renders to the committed golden text, and round-trips.
@Suite struct TFTPPcapTests {
    static let captures = [
        "tcpdump-tftp-rrq-octet", "pixiecore-pxe-bios-proxydhcp-4011-tftp", "qemu-ipxe-bios-dhcp-tftp", "qemu-ovmf-uefi-pxe",
    ]

    @Test(arguments: captures)
    func matchesGoldenAndRoundTrips(capture: String) throws {
        let reader = try PcapReader(path: PackageRoot.path + "/../shared/testdata/pcap/\(capture).pcap")
        var lines: [String] = []
        // TFTP runs between a client TID and the server's ephemeral port: a client is known by its RRQ/WRQ.
        var clients: Set<String> = []
        var runs: [String: (first: String, count: Int, lastLine: String)] = [:]
        for datagram in reader.datagrams {
            let source = "\(datagram.source):\(datagram.sourcePort)"
            let destination = "\(datagram.destination):\(datagram.destinationPort)"
            let isRequest = datagram.destinationPort == 69
            if isRequest { clients.insert(source) }
            guard isRequest || clients.contains(source) || clients.contains(destination) else { continue }

            var buffer = ByteBuffer(bytes: datagram.payload)
            let packet = try TFTPPacket(parsing: &buffer)
            var rewritten = packet.bytes()
            #expect(try TFTPPacket(parsing: &rewritten) == packet, "frame \(datagram.frame)")
            if !datagram.isTruncated {
                #expect(Array(packet.bytes().readableBytesView) == datagram.payload, "frame \(datagram.frame)")
            }
            let line = "\(datagram.frame) \(source) > \(destination) \(packet)" + (datagram.isTruncated ? " (of \(datagram.length - 4))" : "")
            // DATA and ACK come by the thousand: each flow's run is summarised by its first and last packet.
            switch packet {
            case .data, .ack:
                let key = "\(source) > \(destination) \(packet.opcode)"
                if var run = runs[key] {
                    run.count += 1
                    run.lastLine = line
                    runs[key] = run
                } else {
                    runs[key] = (line, 1, line)
                    lines.append("@" + key)
                }
            default:
                lines.append(line)
            }
        }
        let text = lines.map { line -> String in
            guard line.hasPrefix("@"), let run = runs[String(line.dropFirst())] else { return line }
            return run.count == 1 ? run.first : "\(run.first)\n  ... \(run.count) packets, last: \(run.lastLine)"
        }.joined(separator: "\n") + "\n"
        let golden = PackageRoot.path + "/Tests/NetTests/TFTP/Golden/\(capture).parsed"
        if let mismatch = try goldenMismatch(text, path: golden) { Issue.record("\(mismatch)") }
    }

    /// Every request the firmware sent in the QEMU captures, answered by our negotiation: the OACK is
    /// dnsmasq's, plus the `windowsize` dnsmasq does not implement (OVMF asks for 4).
    @Test(arguments: ["qemu-ipxe-bios-dhcp-tftp", "qemu-ovmf-uefi-pxe"])
    func ourOACKMatchesDnsmasq(capture: String) throws {
        let reader = try PcapReader(path: PackageRoot.path + "/../shared/testdata/pcap/\(capture).pcap")
        var pending: [String: TFTPRequest] = [:]
        var compared = 0
        for datagram in reader.datagrams {
            var buffer = ByteBuffer(bytes: datagram.payload)
            if datagram.destinationPort == 69 {
                var responder = TFTPResponder()
                guard case .read(let request, mode: .octet) = responder.handle(buffer, from: datagram.source, now: .now()) else {
                    Issue.record("frame \(datagram.frame) is not an octet read")
                    continue
                }
                pending["\(datagram.source):\(datagram.sourcePort)"] = request
                continue
            }
            let client = "\(datagram.destination):\(datagram.destinationPort)"
            guard let request = pending.removeValue(forKey: client),
                case .optionAck(let dnsmasq) = try TFTPPacket(parsing: &buffer)
            else { continue }
            let size = dnsmasq["tsize"].flatMap { Int($0) } ?? 1
            let ours = TFTPNegotiation(requested: request.options, limits: TFTPLimits(), size: size).optionAck
            let expected = TFTPOptionList(
                request.options.entries.compactMap { option in
                    option.name == "windowsize" ? option : dnsmasq.entries.first { $0.name == option.name }
                })
            #expect(ours == expected, "frame \(datagram.frame): \(request)")
            compared += 1
        }
        #expect(compared >= 2)
    }
}
