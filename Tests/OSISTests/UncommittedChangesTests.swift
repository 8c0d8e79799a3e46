import Foundation
import Testing

@testable import OSIS

/// How readers combine the writer's uncommitted changes with the tables: the two cases a fold leaves
/// (the tables lack every change, or hold them all) and paging across both.
@Suite struct UncommittedChangesTests {
    static func row(_ key: String, _ revision: Int64, _ value: String = "t") -> KeyValue {
        KeyValue(key: key, value: Data(value.utf8), createRevision: revision, modRevision: revision, version: 1)
    }

    static func put(_ key: String, _ revision: Int64) -> KVEvent {
        KVEvent(kind: .put, keyValue: row(key, revision, "u"))
    }

    static func delete(_ key: String, _ revision: Int64) -> KVEvent {
        KVEvent(kind: .delete, keyValue: KeyValue(key: key, value: Data(), createRevision: 0, modRevision: revision, version: 0))
    }

    /// Tables at revision 10 with /a /c /e /g; uncommitted since: /c updated (11), /d added (12), /e
    /// deleted (13), /z added (14).
    static func changes() -> UncommittedChanges {
        let changes = UncommittedChanges()
        changes.add([put("/c", 11), put("/d", 12)])
        changes.add([delete("/e", 13), put("/z", 14)])
        return changes
    }

    static let tables = [row("/a", 1), row("/c", 2), row("/e", 3), row("/g", 4)]

    @Test func theLatestChangeOfAKeyIsItsState() {
        let changes = Self.changes()
        changes.add([Self.put("/d", 15)])
        #expect(changes.latest("/d")?.revision == 15)
        #expect(changes.latest("/e")?.kind == .delete)
        #expect(changes.latest("/a") == nil)
        changes.compacted(through: 12)
        changes.compacted(through: 9)
        #expect(changes.snapshot(after: 0).compacted == 12)
        changes.clear()
        #expect(changes.latest("/d") == nil)
        #expect(changes.snapshot(after: 0).compacted == 0)
        #expect(changes.snapshot(after: 0).changes.isEmpty)
    }

    @Test func whereTheTablesLackTheChangesTheChangesWin() {
        let snapshot = Self.changes().snapshot(prefix: "/", after: nil)
        #expect(snapshot.revision == 14 && snapshot.deletions == 1)
        let page = snapshot.page(rows: Self.tables, exhausted: true, tablesRevision: 10, limit: 10)
        #expect(page.items.map(\.key) == ["/a", "/c", "/d", "/g", "/z"])
        #expect(page.items[1].modRevision == 11)
        #expect(!page.more && page.revision == 14)
    }

    /// A fold after the snapshot commits every change in it (and perhaps later ones): the tables are then
    /// the newer state, and a key they no longer hold stays gone even though the snapshot has a put of it.
    @Test func whereTheTablesHoldTheChangesTheTablesWin() {
        let snapshot = Self.changes().snapshot(prefix: "/", after: nil)
        let folded = [Self.row("/a", 1), Self.row("/c", 11), Self.row("/d", 12), Self.row("/g", 4)]
        let page = snapshot.page(rows: folded, exhausted: true, tablesRevision: 16, limit: 10)
        #expect(page.items == folded)
        #expect(page.revision == 16)
    }

    /// When the tables had more rows than were fetched, a change past the last row fetched waits for the
    /// page it belongs to; the deletion's extra row keeps the page full.
    @Test func changesPastTheFetchedRowsWaitForTheirPage() {
        let snapshot = Self.changes().snapshot(prefix: "/", after: nil)
        // limit 2: fetched limit + 1 + deletions = 4 rows, and the tables have more.
        let page = snapshot.page(rows: Self.tables, exhausted: false, tablesRevision: 10, limit: 2)
        #expect(page.items.map(\.key) == ["/a", "/c"])
        #expect(page.more)
        let next = Self.changes().snapshot(prefix: "/", after: "/c")
        #expect(next.changes.map(\.keyValue.key) == ["/d", "/e", "/z"])
        let second = next.page(rows: [Self.row("/e", 3), Self.row("/g", 4)], exhausted: true, tablesRevision: 10, limit: 2)
        #expect(second.items.map(\.key) == ["/d", "/g"])
        #expect(second.more)
    }

    @Test func aSnapshotKeepsToItsPrefix() {
        let snapshot = Self.changes().snapshot(prefix: "/d", after: nil)
        #expect(snapshot.changes.map(\.keyValue.key) == ["/d"])
    }

    @Test func historyAddsTheChangesTheTablesLack() {
        // A watch from revision 8, the tables at 10 (nothing folded since the snapshot).
        let snapshot = Self.changes().snapshot(after: 8)
        #expect(snapshot.changes.map(\.revision) == [11, 12, 13, 14])
        let lacking = snapshot.history(logged: [Self.put("/c", 9), Self.put("/a", 10)], tablesRevision: 10)
        #expect(lacking.events.map(\.revision) == [9, 10, 11, 12, 13, 14] && lacking.through == 14)
        // Folded since: the tables' history already has them, and more.
        let logged = (9...15).map { Self.put("/k\($0)", $0) }
        let holding = snapshot.history(logged: logged, tablesRevision: 15)
        #expect(holding.events == logged && holding.through == 15)
    }
}
