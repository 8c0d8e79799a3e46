import FuzzDriver
import NIOCore
import Net

/// Made per input: a global would be a lazy one-time allocation, which LeakSanitizer reports as a leak.
func makeResponder() -> DNSResponder {
    DNSResponder(
    zones: DNSZoneSet([
        try! DNSZone(
            soa: try! DNSResourceRecord(zoneLine: "lab. 3600 IN SOA ns.lab. hostmaster.lab. 1 3600 600 604800 60"),
            records: [
                try! DNSResourceRecord(zoneLine: "pxe1.lab. 300 IN A 10.0.0.21"),
                try! DNSResourceRecord(zoneLine: "www.lab. 300 IN CNAME pxe1.lab."),
                try! DNSResourceRecord(zoneLine: "lab. 300 IN MX 10 pxe1.lab."),
            ])
    ]), transferAllowList: ["fuzz"])
}

/// One fuzz input: parse → write → parse must be the identity and never trap, and the responder must
/// decide something for it (over UDP and TCP) whose answer parses again.
func check(_ bytes: [UInt8]) {
    if let message = try? DNSMessage(parsing: bytes) {
        let written = message.bytes()
        guard let again = try? DNSMessage(parsing: written) else { fatalError("written message does not parse: \(message)") }
        // Names may be spelled with compression differently, but the values are the same.
        guard again == message else { fatalError("round trip changed \(message) into \(again)") }
    }
    let responder = makeResponder()
    for transport in [DNSTransport.udp, .tcp] {
        switch responder.respond(to: bytes, transport: transport, client: "fuzz") {
        case .reply(let reply, let maxSize):
            let written = reply.bytes(maxSize: maxSize)
            precondition(written.readableBytes <= max(maxSize, 512) + 64, "reply of \(written.readableBytes) bytes over \(maxSize)")
            guard (try? DNSMessage(parsing: written)) != nil else { fatalError("reply does not parse: \(reply)") }
        case .transfer(let messages):
            for message in messages { _ = try! DNSMessage(parsing: message.bytes()) }
        case .forward, .drop:
            break
        }
    }
}

@main
enum DNSFuzz {
    static func main() throws { try FuzzDriver.run { check(Array($0)) } }
}
