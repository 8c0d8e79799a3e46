import Foundation
import OSIS
import OSISPostgres
import Testing
import TestSupport

/// The SQL views follow the KV store, answer filtered, sorted, paged queries, and rebuild from it.
@Suite(.timeLimit(.minutes(3))) struct ViewProjectorTests {
    struct Fixture {
        let kv: SQLiteKV
        let objects: ObjectStore
        let projector: ViewProjector
        let index: ViewIndex
    }

    enum Backend: String, CaseIterable { case sqlite, postgres }

    /// A fresh KV store and views on `backend`; PostgreSQL views get a schema of their own per test.
    func withViews(_ backend: Backend, _ body: (Fixture) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("views")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let kv = try SQLiteKV(path: path)
        let views: any ViewStore
        switch backend {
        case .sqlite:
            views = try SQLiteViewStore(sharingFileOf: kv)
        case .postgres:
            guard let url = try RealServices.require("PROVISION_TEST_POSTGRES_URL", service: "postgres") else { return }
            views = try PostgresViewStore(url: url, schema: "t_" + UUID().uuidString.prefix(8).lowercased())
        }
        let projector = ViewProjector(kv: kv, views: views, definitions: [Widget.view])
        try await projector.prepare()
        try await body(Fixture(kv: kv, objects: ObjectStore(kv: kv), projector: projector, index: ViewIndex(views: views, definitions: [Widget.view])))
        await views.close()
        await kv.close()
    }

    /// Runs the projector until the views reach the store's revision.
    func caughtUp(_ fixture: Fixture) async throws {
        let target = try await fixture.kv.currentRevision()
        let follower = Task { try await fixture.projector.run() }
        defer { follower.cancel() }
        let deadline = ContinuousClock.now + .seconds(10)
        while try await fixture.projector.views.appliedRevision() < target {
            guard ContinuousClock.now < deadline else { Issue.record("views did not catch up"); return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test(arguments: Backend.allCases) func followsPutsUpdatesAndDeletes(backend: Backend) async throws {
        try await withViews(backend) { f in
            for i in 0..<10 { try await f.objects.put(Widget(id: "w\(i)", color: i % 2 == 0 ? "red" : "blue", size: i)) }
            try await f.objects.delete(Widget.self, id: "w0")
            try await f.objects.modify(Widget.self, id: "w1") { $0.color = "red" }
            try await caughtUp(f)
            let red = try await f.index.query(ViewQuery(kind: "widget", filters: [.init("color", .equal, .text("red"))]))
            #expect(red.rows.map(\.id) == ["w1", "w2", "w4", "w6", "w8"])
            #expect(red.total == 5)
            #expect(red.rows.first?.columns["size"] == .integer(1))
            #expect(red.rows.first?.columns["weight"] == .real(1.5))
            #expect(red.rows.first?.json.contains("\"color\":\"red\"") == true)
        }
    }

    @Test(arguments: Backend.allCases) func sortsFiltersAndPages(backend: Backend) async throws {
        try await withViews(backend) { f in
            for i in 0..<30 { try await f.objects.put(Widget(id: String(format: "w%02d", i), color: "c\(i % 3)", size: 100 - i)) }
            try await caughtUp(f)
            var query = ViewQuery(kind: "widget", filters: [.init("size", .greaterOrEqual, .integer(80))], sortBy: "size", limit: 8)
            let page1 = try await f.index.query(query)
            query.offset = 8
            let page2 = try await f.index.query(query)
            query.offset = 16
            let page3 = try await f.index.query(query)
            #expect(page1.total == 21)
            #expect(page1.rows.map(\.columns["size"]) == (80...87).map { .integer(Int64($0)) })
            #expect((page1.rows + page2.rows + page3.rows).count == 21)
            let descending = try await f.index.query(ViewQuery(kind: "widget", sortBy: "size", descending: true, limit: 1))
            #expect(descending.rows.first?.id == "w00")
            let prefixed = try await f.index.query(ViewQuery(kind: "widget", filters: [.init("id", .prefix, .text("w1"))]))
            #expect(prefixed.total == 10)
        }
    }

    /// Free text gets no index (and loses the one an older store made): one B-tree fewer per row written.
    @Test(arguments: [ViewSQL.Dialect.sqlite, .postgres]) func unindexedColumnsGetNoIndex(dialect: ViewSQL.Dialect) {
        let definition = ViewDefinition(kind: "note", columns: [ViewColumn("topic"), ViewColumn("text", indexed: false)])
        let statements = ViewSQL.createTable(definition, dialect: dialect)
        #expect(statements.contains { $0.hasPrefix("CREATE INDEX IF NOT EXISTS view_note_topic ON view_note (topic)") })
        #expect(statements.contains("DROP INDEX IF EXISTS view_note_text"))
        #expect(!statements.contains { $0.contains("ON view_note (text)") })
    }

    /// A sparse column's index holds only rows with a value (and replaces the full index an older store
    /// made); filters on a value find the rows, through that index.
    @Test(arguments: Backend.allCases) func sparseColumnsIndexOnlyRowsWithAValue(backend: Backend) async throws {
        let statements = ViewSQL.createTable(Widget.view, dialect: backend == .sqlite ? .sqlite : .postgres)
        #expect(statements.contains("DROP INDEX IF EXISTS view_widget_tag"))
        #expect(statements.contains("CREATE INDEX IF NOT EXISTS view_widget_tag_set ON view_widget (tag) WHERE deleted = 0 AND tag IS NOT NULL"))
        try await withViews(backend) { f in
            for i in 0..<12 { try await f.objects.put(Widget(id: "w\(i)", color: "red", size: i, tag: i % 4 == 0 ? "x" : nil)) }
            try await caughtUp(f)
            let tagged = try await f.index.query(ViewQuery(kind: "widget", filters: [.init("tag", .equal, .text("x"))]))
            #expect(tagged.rows.map(\.id) == ["w0", "w4", "w8"])
            guard backend == .sqlite else { return }
            let (condition, _) = ViewSQL.whereClause(ViewQuery(kind: "widget", filters: [.init("tag", .equal, .text("x"))]), dialect: .sqlite)
            let plan = try SQLiteConnection(path: f.kv.path, readOnly: true).rows(
                "EXPLAIN QUERY PLAN SELECT id FROM view_widget \(condition)", [.text("x")]) { $0.text(3) }
            #expect(plan.contains { $0.contains("view_widget_tag_set") }, "\(plan)")
        }
    }

    @Test(arguments: Backend.allCases) func rejectsUnknownKindsAndColumns(backend: Backend) async throws {
        try await withViews(backend) { f in
            await #expect(throws: ViewQueryError.unknownKind("gadget")) { try await f.index.query(ViewQuery(kind: "gadget")) }
            await #expect(throws: ViewQueryError.self) { try await f.index.query(ViewQuery(kind: "widget", sortBy: "size; DROP TABLE x")) }
            await #expect(throws: ViewQueryError.badLimit(0)) { try await f.index.query(ViewQuery(kind: "widget", limit: 0)) }
        }
    }

    @Test(arguments: Backend.allCases) func replayingOldChangesIsHarmless(backend: Backend) async throws {
        try await withViews(backend) { f in
            let old = try await f.objects.put(Widget(id: "w", color: "old", size: 1))
            try await f.objects.put(Widget(id: "w", color: "new", size: 2))
            try await f.objects.delete(Widget.self, id: "gone-never-existed")
            try await caughtUp(f)
            // Re-apply the first write: the row is already past that revision, so nothing changes.
            let stale = ViewChange.upsert(kind: "widget", id: "w", revision: old.revision, columns: [.text("old"), .integer(1), .null, .null], json: "{}")
            try await f.projector.views.apply([stale], through: old.revision, definitions: f.projector.definitions)
            let rows = try await f.index.query(ViewQuery(kind: "widget"))
            #expect(rows.rows.map { $0.columns["color"] } == [.text("new")])
            // A delete followed by a replayed older put stays deleted (the tombstone keeps its revision).
            let deleted = try await f.kv.delete(ObjectStore.key(kind: "widget", id: "w"))
            try await caughtUp(f)
            try await f.projector.views.apply([stale], through: deleted, definitions: f.projector.definitions)
            #expect(try await f.index.query(ViewQuery(kind: "widget")).total == 0)
        }
    }

    @Test(arguments: Backend.allCases) func reindexRebuildsFromTheStore(backend: Backend) async throws {
        try await withViews(backend) { f in
            for i in 0..<1200 { try await f.objects.put(Widget(id: "w\(i)", color: "c", size: i)) }
            try await f.projector.views.reset([Widget.view])
            #expect(try await f.index.query(ViewQuery(kind: "widget")).total == 0)
            let revision = try await f.projector.reindex()
            #expect(revision == (try await f.kv.currentRevision()))
            #expect(try await f.index.query(ViewQuery(kind: "widget")).total == 1200)
        }
    }

    @Test(arguments: Backend.allCases) func catchesUpAfterARestartFromItsLastRevision(backend: Backend) async throws {
        try await withViews(backend) { f in
            for i in 0..<5 { try await f.objects.put(Widget(id: "a\(i)", color: "c", size: i)) }
            try await caughtUp(f)
            // Written while no projector runs: picked up by the next one.
            for i in 0..<5 { try await f.objects.put(Widget(id: "b\(i)", color: "c", size: i)) }
            try await caughtUp(f)
            #expect(try await f.index.query(ViewQuery(kind: "widget")).total == 10)
        }
    }

    @Test(arguments: Backend.allCases) func compactedHistoryTriggersARebuild(backend: Backend) async throws {
        try await withViews(backend) { f in
            for i in 0..<5 { try await f.objects.put(Widget(id: "a\(i)", color: "c", size: i)) }
            try await f.kv.compact(through: try await f.kv.currentRevision())
            try await caughtUp(f)
            #expect(try await f.index.query(ViewQuery(kind: "widget")).total == 5)
        }
    }
}
