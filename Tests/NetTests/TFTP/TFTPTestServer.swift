import Foundation
import Logging
import NIOCore
import Net
import TestSupport

/// A `TFTPService` on 127.0.0.1 and a free port, serving a temporary root, for loopback tests.
struct TFTPTestServer {
    let root: String
    let port: Int
    let events: MemoryTFTPEventSink
    let task: Task<Void, any Error>

    static func start(
        root: String, configure: (inout TFTPService.Configuration) -> Void = { _ in },
        files: (any TFTPFileSource)? = nil, uploads: TFTPUploadDirectory? = nil
    ) async throws -> TFTPTestServer {
        let port = try freeUDPPort()
        var configuration = TFTPService.Configuration(listen: ListenAddress(host: "127.0.0.1", port: port))
        configure(&configuration)
        let events = MemoryTFTPEventSink()
        let service = TFTPService(
            configuration: configuration, files: try files ?? TFTPRootDirectory(path: root), uploads: uploads, events: events,
            logger: Logger(label: "tftp-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await service.run() }
        // Ready once it answers: a probe for a missing file gets ERROR 1.
        let probe = try UDPTestSocket()
        for _ in 0..<300 {
            probe.send(TFTPPacket.readRequest(TFTPRequest(filename: "ready-probe")).byteArray, to: UInt16(port))
            if await probe.receive(timeout: .milliseconds(50)) != nil { break }
        }
        return TFTPTestServer(root: root, port: port, events: events, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// Events of completed transfers of `file`.
    func completed(_ file: String) -> [TFTPTransferEvent] {
        events.events.filter { $0.file == file && $0.outcome == .completed }
    }
}

extension TFTPPacket {
    var byteArray: [UInt8] { Array(bytes().readableBytesView) }

    init(_ bytes: [UInt8]) throws {
        var buffer = ByteBuffer(bytes: bytes)
        try self.init(parsing: &buffer)
    }
}

/// The real TFTP clients the interop tests run. Under CI=true a missing one fails its test.
enum TFTPClients {
    static func path(_ name: String) -> String? {
        ["/usr/bin/", "/usr/local/bin/", "/bin/"].map { $0 + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func available(_ names: String...) -> Bool {
        RealServices.isCI || names.allSatisfy { path($0) != nil }
    }

    static func require(_ name: String) throws -> String {
        guard let path = path(name) else {
            throw ClientMissing(description: "\(name) is not installed: run `scripts/install-deps.sh tftp`")
        }
        return path
    }

    struct ClientMissing: Error, CustomStringConvertible { var description: String }
}
