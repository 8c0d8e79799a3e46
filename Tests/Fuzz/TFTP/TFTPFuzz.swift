import NIOCore
import Net

/// libFuzzer entry point: parse → write → parse must be the identity and never trap; requests also go
/// through option negotiation and the path rules. Built by `scripts/fuzz.sh tftp SECONDS` with
/// `-sanitize=fuzzer,address` and `-D FUZZING`; without FUZZING the `@main` below replays inputs instead.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size)))
    return 0
}

func check(_ datagram: ByteBuffer) {
    var buffer = datagram
    guard let packet = try? TFTPPacket(parsing: &buffer) else { return }
    var written = packet.bytes()
    guard let again = try? TFTPPacket(parsing: &written), again == packet else {
        fatalError("round trip changed \(packet)")
    }
    if case .readRequest(let request) = packet {
        let negotiation = TFTPNegotiation(requested: request.options, limits: TFTPLimits(), size: datagram.readableBytes)
        precondition((8...65464).contains(negotiation.blockSize) && (1...65535).contains(negotiation.windowSize))
        _ = try? TFTPPath.validate(request.filename)
        var responder = TFTPResponder()
        _ = responder.handle(datagram, from: "fuzz", now: .now)
    }
}

#if !FUZZING
import Foundation

/// Without the fuzzer: runs each file named on the command line through the same checks, to replay a crasher.
@main
enum Replay {
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            check(ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path))))
            print("ok \(path)")
        }
    }
}
#endif
