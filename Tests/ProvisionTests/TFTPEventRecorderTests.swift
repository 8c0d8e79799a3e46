import Foundation
import Logging
import Net
import NIOCore
import OSIS
import Provision
import Testing
import TestSupport
import Workflow

/// Every TFTP transfer is an event of the machine it belongs to, found by the client's address.
@Suite(.timeLimit(.minutes(2))) struct TFTPEventRecorderTests {
    func transfer(from address: String, file: String, outcome: TFTPTransferEvent.Outcome = .completed) throws -> TFTPTransferEvent {
        TFTPTransferEvent(
            file: file, client: try SocketAddress(ipAddress: address, port: 3000), outcome: outcome, size: 1000, blockSize: 1468,
            windowSize: 16, bytesSent: 1000, retransmissions: 2, duration: .milliseconds(1500))
    }

    @Test func transfersBecomeEventsOfTheMachineUsingTheAddress() async throws {
        let directory = try TemporaryDirectory("tftp-events")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let state = ApplianceState(kv: try SQLiteKV(path: path), views: try SQLiteViewStore(path: path))
        try await state.projector.prepare()
        let objects = ObjectStore(kv: state.kv)
        let engine = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([]))
        try await objects.create(Machine(mac: "52:54:00:00:00:05", address: "10.0.0.5"))
        try await objects.create(Lease(network: "lab", address: "10.0.0.6", mac: "52:54:00:00:00:06", state: .bound, expiresAt: Date() + 600))
        _ = try await state.projector.reindex()

        let recorder = TFTPEventRecorder(engine: engine, locator: MachineLocator(index: state.index), log: LoggingTFTPEventSink(logger: Logger(label: "t")))
        recorder.record(try transfer(from: "10.0.0.5", file: "ipxe.efi"))
        recorder.record(try transfer(from: "10.0.0.6", file: "undionly.kpxe", outcome: .failed(.timedOut)))
        recorder.record(try transfer(from: "10.0.0.7", file: "stranger"))
        recorder.record(try transfer(from: "10.0.0.5", file: "nope", outcome: .refused(.fileNotFound, .notFound)))

        var events: [Event] = []
        for _ in 0..<500 where events.count < 3 {
            events = try await objects.all(Event.self).map(\.object).filter { $0.type == TFTPEventRecorder.eventType }
            try await Task.sleep(for: .milliseconds(20))
        }
        let byFile = Dictionary(uniqueKeysWithValues: events.map { ($0.data["file"] ?? "", $0) })
        #expect(Set(byFile.keys) == ["ipxe.efi", "undionly.kpxe", "stranger"], "refusals are not stored")
        #expect(byFile["ipxe.efi"]?.machine == "52:54:00:00:00:05", "by the machine's own address")
        #expect(byFile["undionly.kpxe"]?.machine == "52:54:00:00:00:06", "by its lease")
        #expect(byFile["stranger"]?.machine == nil)
        #expect(byFile["ipxe.efi"]?.data == [
            "file": "ipxe.efi", "direction": "read", "client": "10.0.0.5", "outcome": "completed", "size": "1000", "bytes": "1000", "blksize": "1468",
            "windowsize": "16", "retransmissions": "2", "milliseconds": "1500",
        ])
        #expect(byFile["undionly.kpxe"]?.data["outcome"] == "failed: timed out")
        engine.shutdown()
        await state.close()
    }
}
