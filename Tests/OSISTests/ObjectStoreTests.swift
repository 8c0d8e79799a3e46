import Foundation
import OSIS
import Testing
import TestSupport

/// A small object kind for the tests.
struct Widget: OSISObject, Hashable {
    static let kind = "widget"
    static let viewColumns = [ViewColumn("color"), ViewColumn("size", .integer), ViewColumn("weight", .real), ViewColumn("tag", sparse: true)]
    var id: String
    var color: String
    var size: Int
    var weight: Double = 1.5
    var tag: String? = nil
}

@Suite(.timeLimit(.minutes(3))) struct ObjectStoreTests {
    func withObjects(_ body: (ObjectStore) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("objects")
        defer { directory.remove() }
        let kv = try SQLiteKV(path: directory.file("kv.sqlite"))
        try await body(ObjectStore(kv: kv))
        await kv.close()
    }

    @Test func createReadUpdate() async throws {
        try await withObjects { objects in
            let created = try await objects.create(Widget(id: "w1", color: "red", size: 3))
            var read = try #require(try await objects.get(Widget.self, id: "w1"))
            #expect(read.object == Widget(id: "w1", color: "red", size: 3))
            #expect(read.revision == created.revision)
            read.object.color = "blue"
            let updated = try await objects.update(read)
            #expect(updated.revision > read.revision)
            #expect(try await objects.get(Widget.self, id: "w1")?.object.color == "blue")
        }
    }

    @Test func anUpdateBuiltOnAnOldRevisionConflictsAndChangesNothing() async throws {
        try await withObjects { objects in
            let first = try await objects.create(Widget(id: "w", color: "red", size: 1))
            var a = first
            var b = first
            a.object.color = "green"
            b.object.color = "yellow"
            let afterA = try await objects.update(a)
            await #expect(throws: OSISError.conflict(kind: "widget", id: "w", expected: first.revision, actual: afterA.revision)) {
                try await objects.update(b)
            }
            #expect(try await objects.get(Widget.self, id: "w")?.object.color == "green")
        }
    }

    @Test func createTwiceConflicts() async throws {
        try await withObjects { objects in
            try await objects.create(Widget(id: "w", color: "red", size: 1))
            await #expect(throws: OSISError.self) { try await objects.create(Widget(id: "w", color: "red", size: 1)) }
        }
    }

    @Test func modifyRetriesUntilItWins() async throws {
        try await withObjects { objects in
            try await objects.create(Widget(id: "counter", color: "x", size: 0))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        for _ in 0..<5 { try await objects.modify(Widget.self, id: "counter", attempts: 100) { $0.size += 1 } }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await objects.get(Widget.self, id: "counter")?.object.size == 40)
        }
    }

    @Test func commitIsAllOrNothing() async throws {
        try await withObjects { objects in
            let a = try await objects.create(Widget(id: "a", color: "red", size: 1))
            _ = try await objects.update(a)  // a moves on, so the stored copy is stale
            await #expect(throws: OSISError.self) {
                try await objects.commit([try .create(Widget(id: "b", color: "red", size: 1)), try .update(a)])
            }
            #expect(try await objects.get(Widget.self, id: "b") == nil)
        }
    }

    @Test func listsInIDOrderByPage() async throws {
        try await withObjects { objects in
            for i in 0..<7 { try await objects.put(Widget(id: "w\(i)", color: "c", size: i)) }
            let first = try await objects.list(Widget.self, limit: 4)
            #expect(first.items.map(\.object.id) == ["w0", "w1", "w2", "w3"] && first.more)
            let second = try await objects.list(Widget.self, after: "w3", limit: 4)
            #expect(second.items.map(\.object.id) == ["w4", "w5", "w6"] && !second.more)
        }
    }

    @Test(arguments: ["", "a/b", "with space", "ü"])
    func rejectsBadIDs(id: String) async throws {
        try await withObjects { objects in
            await #expect(throws: OSISError.invalidID(id)) { try await objects.create(Widget(id: id, color: "x", size: 0)) }
        }
    }

    @Test func aNewerSchemaIsReportedNotMisread() async throws {
        try await withObjects { objects in
            try await objects.kv.put(ObjectStore.key(kind: "widget", id: "future"), Data("widget 99\n{}".utf8))
            await #expect(throws: OSISError.self) { try await objects.get(Widget.self, id: "future") }
        }
    }
}
