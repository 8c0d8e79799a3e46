import NIOCore
import Net

/// One fuzz input: parse → write → parse must be the identity and never trap, and the responder must
/// decide something for it (over UDP and TCP) whose answer parses again.
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

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

import Foundation

/// Built by `scripts/fuzz.sh dns SECONDS` with `-sanitize=fuzzer,address -D FUZZING`, `main` hands over
/// to libFuzzer (SwiftPM names every executable's entry point, so libFuzzer's own `main` cannot be used).
/// Otherwise it replays the files named on the command line, to reproduce a crasher.
@main
enum DNSFuzz {
    static func main() throws {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = Optional(CommandLine.unsafeArgv)
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
        #else
        for path in CommandLine.arguments.dropFirst() {
            check(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            print("ok \(path)")
        }
        #endif
    }
}

#if FUZZING
// libFuzzer's driver (compiler-rt FuzzerInterface.h); its pointer arguments pass the same in Swift's and C's
// calling conventions on the platforms we fuzz on.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
