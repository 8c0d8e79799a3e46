import Foundation
import NIOCore
import Net

/// One fuzz input: parse → write → parse must be the identity and never trap; whatever parses as a
/// request then goes through the responder (two networks, pool and proxy) and its reply is written
/// with the client's size limit, which exercises option overload.
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size)))
    return 0
}

nonisolated(unsafe) var responder = DHCPResponder(networks: [
    DHCPNetwork(
        name: "lab", interface: "eth0", serverAddress: IPv4Address(10, 0, 0, 1), subnet: IPv4Subnet(network: IPv4Address(10, 0, 0, 0), prefixLength: 24),
        pool: IPv4Range(first: IPv4Address(10, 0, 0, 100), last: IPv4Address(10, 0, 0, 110)), router: IPv4Address(10, 0, 0, 1),
        dnsServers: [IPv4Address(10, 0, 0, 1)], domain: "lab"),
    DHCPNetwork(
        name: "proxy", interface: "eth1", serverAddress: IPv4Address(10, 1, 0, 1), subnet: IPv4Subnet(network: IPv4Address(10, 1, 0, 0), prefixLength: 16),
        mode: .proxy),
])

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

/// Built by `scripts/fuzz.sh dhcp SECONDS` with `-sanitize=fuzzer,address -D FUZZING`, `main` hands over
/// to libFuzzer; otherwise it replays the files named on the command line, to reproduce a crasher.
@main
enum DHCPFuzz {
    static func main() throws {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = Optional(CommandLine.unsafeArgv)
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
        #else
        for path in CommandLine.arguments.dropFirst() {
            check(ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path))))
            print("ok \(path)")
        }
        #endif
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
