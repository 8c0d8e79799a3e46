import Foundation
import OSIS
import Testing
import TestSupport

/// `provision osis status | reindex | list` against a store with objects in it.
@Suite(.timeLimit(.minutes(3))) struct OSISCommandTests {
    @Test func statusReindexAndListSeeTheStore() async throws {
        let directory = try TemporaryDirectory("osiscli")
        defer { directory.remove() }
        let config = try directory.write("appliance.yaml", "data-dir: \(directory.path)\n")
        let kv = try SQLiteKV(path: directory.file("state.sqlite"))
        for i in 0..<3 {
            let json = #"{"mac":"52:54:00:00:00:0\#(i)","state":"\#(i == 0 ? "discovered" : "provisioned")","progress":0,"facts":{},"updatedAt":"2026-11-23T10:00:00Z"}"#
            try await kv.put(ObjectStore.key(kind: "machine", id: "52:54:00:00:00:0\(i)"), Data(("machine 1\n" + json).utf8))
        }
        await kv.close()
        let provision = ChildProcess.provisionBinary

        let before = try await ChildProcess.run(provision, ["osis", "status", "--config", config])
        #expect(before.status == 0, "\(before.output)")
        #expect(before.output.contains("kv store:  sqlite, revision 3"), "\(before.output)")
        #expect(before.output.contains("(lag 3 revisions)"), "\(before.output)")

        let reindex = try await ChildProcess.run(provision, ["osis", "reindex", "--config", config])
        #expect(reindex.status == 0 && reindex.output.contains("views rebuilt through revision 3"), "\(reindex.output)")

        let after = try await ChildProcess.run(provision, ["osis", "status", "--config", config])
        #expect(after.output.contains("(lag 0 revisions)") && after.output.contains("machine: 3"), "\(after.output)")

        let list = try await ChildProcess.run(provision, ["osis", "list", "machine", "--where", "state=provisioned", "--config", config])
        #expect(list.status == 0)
        #expect(list.output.contains("(2 of 2, views at revision 3)"), "\(list.output)")

        let bad = try await ChildProcess.run(provision, ["osis", "list", "machine", "--where", "colour=red", "--config", config])
        #expect(bad.status != 0 && bad.output.contains("machine has no column 'colour'"), "\(bad.output)")
    }
}
