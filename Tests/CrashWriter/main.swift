// osis-crash-writer: writes objects to an embedded OSIS store as fast as it can, printing one line per
// acknowledged write, until it is killed. The crash test kills it with SIGKILL at random points and then
// checks that every acknowledged write is in the store, intact.
//
// Usage: osis-crash-writer PATH WRITERS
// Output lines: `ack KEY REVISION HASH` (HASH: FNV-1a 64 of the stored bytes, hex).
import CLinuxShims
import Foundation
import OSIS

struct Probe: OSISObject {
    static let kind = "probe"
    static let viewColumns = [ViewColumn("writer", .integer), ViewColumn("seq", .integer)]
    var id: String
    var writer: Int
    var seq: Int
    var padding: String
}

func fnv1a(_ data: Data) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in data {
        hash ^= UInt64(byte)
        hash &*= 0x100_0000_01b3
    }
    return String(hash, radix: 16)
}

/// One line to stdout with a single write(2), so lines from concurrent writers never interleave and
/// nothing sits in a buffer when the process is killed.
func emit(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    bytes.withUnsafeMutableBytes { _ = write(1, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let writers = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: osis-crash-writer PATH WRITERS\n".utf8))
    exit(2)
}
// Never outlive the test that started it: it writes as fast as it can until killed.
_ = provision_die_with_parent()
let kv = try SQLiteKV(path: arguments[1])
let views = try SQLiteViewStore(sharingFileOf: kv)
let projector = ViewProjector(kv: kv, views: views, definitions: [Probe.view])
try await projector.prepare()
let start = try await kv.currentRevision()
emit("start \(start)")

await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { try await projector.run() }
    for writer in 0..<writers {
        group.addTask {
            let objects = ObjectStore(kv: kv)
            var seq = 0
            while true {
                seq += 1
                // Ids are unique per run (the start revision), so each run adds new objects.
                let probe = Probe(
                    id: "r\(start)-w\(writer)-\(seq)", writer: writer, seq: seq,
                    padding: String(repeating: "p", count: (seq * 37) % 3000))
                let stored = try await objects.create(probe)
                let value = try require(try await kv.get(ObjectStore.key(kind: Probe.kind, id: probe.id))).value
                emit("ack \(ObjectStore.key(kind: Probe.kind, id: probe.id)) \(stored.revision) \(fnv1a(value))")
            }
        }
    }
    try? await group.waitForAll()
}

/// `#require` outside of tests: a nil here is a bug in the store.
func require<T>(_ value: T?) throws -> T {
    guard let value else { throw KVError.invalid("acknowledged write not readable") }
    return value
}
