import ArgumentParser
import Foundation
import OSIS
import Provision

/// `provision osis …`: look into and maintain the object store.
struct OSISCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osis",
        abstract: "Inspect and maintain OSIS, the object store and its SQL views.",
        subcommands: [Status.self, Reindex.self, List.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the backends, the store revision and how far the views lag.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let state = try await options.openState()
            let revision = try await state.kv.currentRevision()
            let applied = try await state.views.appliedRevision()
            print("kv store:  \(state.kv.backendName), revision \(revision)")
            print("views:     \(state.views.backendName), through revision \(applied) (lag \(max(0, revision - applied)) revisions)")
            for definition in ApplianceViews.definitions {
                let page = try await state.index.query(ViewQuery(kind: definition.kind, limit: 1))
                print("  \(definition.kind): \(page.total)")
            }
            await state.close()
        }
    }

    struct Reindex: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rebuild every SQL view from the KV store.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let state = try await options.openState()
            let started = ContinuousClock.now
            let projector = state.projector
            try await projector.prepare()
            let revision = try await projector.reindex()
            print("views rebuilt through revision \(revision) in \(ContinuousClock.now - started)")
            await state.close()
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List objects of a kind from its view, e.g. `provision osis list machine --where state=discovered`.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The kind: machine, lease, run, job, event.") var kind: String
        @Option(name: .customLong("where"), help: "column=value (repeatable).") var filters: [String] = []
        @Option(help: "Sort column; prefix with - for descending.") var sort: String = "id"
        @Option(help: "At most this many rows.") var limit: Int = 50

        func run() async throws {
            let state = try await options.openState()
            var query = ViewQuery(kind: kind, sortBy: sort.hasPrefix("-") ? String(sort.dropFirst()) : sort, descending: sort.hasPrefix("-"), limit: limit)
            for filter in filters {
                let parts = filter.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw ValidationError("--where takes column=value, not '\(filter)'") }
                query.filters.append(.init(String(parts[0]), .equal, .text(String(parts[1]))))
            }
            do {
                let page = try await state.index.query(query)
                for row in page.rows { print("\(row.id)\t\(row.json)") }
                print("(\(page.rows.count) of \(page.total), views at revision \(page.revision))")
                await state.close()
            } catch let error as ViewQueryError {
                await state.close()
                throw ValidationError("\(error)")
            }
        }
    }
}

extension GlobalOptions {
    /// Opens the config's state backends, with the view tables created if they are missing.
    func openState() async throws -> ApplianceState {
        let config = try loadConfig()
        do {
            let state = try ApplianceState.open(config)
            try await state.projector.prepare()
            return state
        } catch {
            printError("\(self.config): \(error)")
            throw ExitCode.failure
        }
    }
}
