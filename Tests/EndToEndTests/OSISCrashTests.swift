import Foundation
import OSIS
import Testing
import TestSupport

/// Nothing acknowledged is lost: a writer process is killed with SIGKILL at random points, many times;
/// after each restart every write it acknowledged is in the store with exactly the bytes it wrote, and
/// the views catch up with the store.
@Suite(.timeLimit(.minutes(3))) struct OSISCrashTests {
    static let kills = 25

    @Test func acknowledgedWritesSurviveSIGKILL() async throws {
        let directory = try TemporaryDirectory("crash")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let writer = (URL(fileURLWithPath: ChildProcess.provisionBinary).deletingLastPathComponent().appendingPathComponent("osis-crash-writer")).path
        var acknowledged: [String: (revision: Int64, hash: String)] = [:]

        for round in 0..<Self.kills {
            let child = try ChildProcess(writer, [path, "16"])
            // Kill at a random point once it is writing (during commits and view updates): wait for it
            // to open the store first, which takes longer on a loaded machine.
            let opened = ContinuousClock.now + .seconds(20)
            while !child.text.contains("start "), child.isRunning, ContinuousClock.now < opened {
                try await Task.sleep(for: .milliseconds(5))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 30...400)))
            child.signal(SIGKILL)
            _ = await child.wait(timeout: .seconds(10))
            var acks = 0
            // A line still being written when the kill came is not an acknowledgement the test saw whole.
            var lines = child.text.split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast()
            for line in lines where line.hasPrefix("ack ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, let revision = Int64(parts[2]) else { continue }
                acknowledged[String(parts[1])] = (revision, String(parts[3]))
                acks += 1
            }
            if round == 0 { #expect(acks > 0, "the writer acknowledged nothing: \(child.text.prefix(500))") }
        }

        let kv = try SQLiteKV(path: path)
        var missing = 0
        var torn = 0
        for (key, expected) in acknowledged {
            guard let stored = try await kv.get(key) else { missing += 1; continue }
            if stored.modRevision != expected.revision || fnv1a(stored.value) != expected.hash { torn += 1 }
        }
        #expect(acknowledged.count > 100, "too few writes to mean anything: \(acknowledged.count)")
        #expect(missing == 0, "\(missing) of \(acknowledged.count) acknowledged writes lost")
        #expect(torn == 0, "\(torn) acknowledged writes changed")

        // The views catch up with everything in the store, acknowledged or not.
        let views = try SQLiteViewStore(sharingFileOf: kv)
        let definition = ViewDefinition(kind: "probe", columns: [ViewColumn("writer", .integer), ViewColumn("seq", .integer)])
        let projector = ViewProjector(kv: kv, views: views, definitions: [definition])
        let follower = Task { try await projector.run() }
        let target = try await kv.currentRevision()
        let deadline = ContinuousClock.now + .seconds(30)
        while try await views.appliedRevision() < target, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        follower.cancel()
        let inStore = try await kv.all(prefix: ObjectStore.prefix + "probe/").count
        let inView = try await ViewIndex(views: views, definitions: [definition]).query(ViewQuery(kind: "probe", limit: 1)).total
        #expect(inView == inStore && inStore >= acknowledged.count)
        await kv.close()
    }

    func fnv1a(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
