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
}
