import NIOCore
import Net

/// One fuzz input: parse → write → parse must be the identity and never trap; requests also go through
/// option negotiation, the path rules and the responder (uploads on and off), and DATA through an upload.
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
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
    if case .writeRequest(let request) = packet {
        var responder = TFTPResponder(acceptsWrites: true)
        _ = responder.handle(datagram, from: "fuzz", now: .now)
        let limits = TFTPLimits()
        var receive = TFTPReceive(negotiation: TFTPNegotiation(requested: request.options, limits: limits, size: 0), limits: limits, maxSize: 1 << 20)
        _ = receive.handle(.start, now: .now)
    }
    if case .data(let block, let payload) = packet {
        // An upload fed this block out of nowhere, then as the one it expects.
        let limits = TFTPLimits()
        var receive = TFTPReceive(negotiation: TFTPNegotiation(requested: ["blksize": "8", "windowsize": "4"], limits: limits, size: 0), limits: limits, maxSize: 64)
        _ = receive.handle(.start, now: .now)
        _ = receive.handle(.data(block: block, payload: payload), now: .now)
        _ = receive.handle(.data(block: 1, payload: payload), now: .now)
        precondition(receive.bytesReceived <= 64)
    }
}

import Foundation

/// Built by `scripts/fuzz.sh tftp SECONDS` with `-sanitize=fuzzer,address -D FUZZING`, `main` hands over
/// to libFuzzer (SwiftPM names every executable's entry point, so libFuzzer's own `main` cannot be used).
/// Otherwise it replays the files named on the command line, to reproduce a crasher.
@main
enum TFTPFuzz {
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
// libFuzzer's driver (compiler-rt FuzzerInterface.h); its pointer arguments pass the same in Swift's and C's
// calling conventions on the platforms we fuzz on.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif
