import Foundation

/// The entry point the fuzz targets share.
///
/// Built by `scripts/fuzz.sh NAME SECONDS` with `-sanitize=fuzzer,address -D FUZZING`, `run` hands over to
/// libFuzzer (SwiftPM names every executable's entry point, so libFuzzer's own `main` cannot be used).
/// Otherwise it replays the files named on the command line, to reproduce a crasher.
public enum FuzzDriver {
    /// The target's check, for libFuzzer's C callback (which can carry no context).
    nonisolated(unsafe) private static var check: ((UnsafeRawBufferPointer) -> Void)?

    public static func run(_ check: @escaping (UnsafeRawBufferPointer) -> Void) throws {
        #if FUZZING
        Self.check = check
        var argc = CommandLine.argc
        var argv = Optional(CommandLine.unsafeArgv)
        exit(
            LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                FuzzDriver.check?(UnsafeRawBufferPointer(start: data, count: size))
                return 0
            })
        #else
        for path in CommandLine.arguments.dropFirst() {
            try Data(contentsOf: URL(fileURLWithPath: path)).withUnsafeBytes(check)
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
