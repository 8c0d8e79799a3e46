import FuzzDriver
import Foundation
import NIOCore
import Net

nonisolated(unsafe) var responder = DHCPResponder(networks: [
    DHCPNetwork(
        name: "lab", interface: "eth0", serverAddress: IPv4Address(10, 0, 0, 1), subnet: IPv4Subnet(network: IPv4Address(10, 0, 0, 0), prefixLength: 24),
        pool: IPv4Range(first: IPv4Address(10, 0, 0, 100), last: IPv4Address(10, 0, 0, 110)), router: IPv4Address(10, 0, 0, 1),
        dnsServers: [IPv4Address(10, 0, 0, 1)], domain: "lab"),
    DHCPNetwork(
        name: "proxy", interface: "eth1", serverAddress: IPv4Address(10, 1, 0, 1), subnet: IPv4Subnet(network: IPv4Address(10, 1, 0, 0), prefixLength: 16),
        mode: .proxy),
])

/// One fuzz input: parse → write → parse must be the identity and never trap; whatever parses as a
/// request then goes through the responder (two networks, pool and proxy) and its reply is written
/// with the client's size limit, which exercises option overload.
func check(_ datagram: ByteBuffer) {
    var buffer = datagram
    guard let message = try? DHCPMessage(parsing: &buffer) else { return }
    var written = message.bytes()
    guard let again = try? DHCPMessage(parsing: &written), again == message else {
        fatalError("round trip changed \(message)")
    }
    guard let request = try? DHCPRequest(message) else { return }
    for link in [DHCPLink(interface: "eth0"), DHCPLink(interface: "eth1"), DHCPLink(interface: "eth0", isBootServer: true)] {
        let decision = responder.handle(request, on: link, now: Date(timeIntervalSince1970: 1_800_000_000))
        let reply: DHCPReply
        switch decision {
        case .reply(let r), .persistThenReply(_, let r): reply = r
        default: continue
        }
        var bytes = reply.message.bytes(maxSize: reply.maxSize)
        precondition(bytes.readableBytes <= max(reply.maxSize, 548) + 64, "reply of \(bytes.readableBytes) bytes")
        guard (try? DHCPMessage(parsing: &bytes)) != nil else { fatalError("reply does not parse: \(reply.message)") }
    }
}

@main
enum DHCPFuzz {
    static func main() throws { try FuzzDriver.run { check(ByteBuffer(bytes: $0)) } }
}
