import Foundation
import Testing
import TestSupport

/// The `provision` binary as an operator runs it.
@Suite(.timeLimit(.minutes(3))) struct CommandLineTests {
    let provision = ChildProcess.provisionBinary

    @Test func validateAcceptsTheDefaultConfig() async throws {
        let result = try await ChildProcess.run(provision, ["validate", "--config", PackageRoot.path + "/appliance/appliance.yaml"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("appliance.yaml: ok"))
    }

    @Test func validateRejectsAnUnknownKeyWithFileLineColumn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write("bad.yaml", "state:\n  sqlite: s.db\nhttp:\n  listen: 127.0.0.1:1\n  colour: blue\n")
        let result = try await ChildProcess.run(provision, ["validate", "--config", file])
        #expect(result.status == 1)
        #expect(result.output.contains("\(file):5:3: unknown key 'colour'"), "\(result.output)")
    }

    @Test func validateRejectsAWrongTypeWithFileLineColumn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write("bad.yaml", "tftp:\n  enabled: sometimes\n")
        let result = try await ChildProcess.run(provision, ["validate", "--config", file])
        #expect(result.status == 1)
        #expect(result.output.contains("\(file):2:12: expected true or false, found 'sometimes'"), "\(result.output)")
    }

    @Test func serveRejectsABadConfigBeforeStarting() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write("bad.yaml", "data-dir: \(directory.path)\nnetworks:\n  - name: x\n    subnet: 10.0.0.0/24\n    pool: 10.0.0.1-10.0.0.9\n    mode: sometimes\n")
        let result = try await ChildProcess.run(provision, ["serve", "--config", file])
        #expect(result.status == 1)
        #expect(result.output.contains("\(file):6:11: 'sometimes' is not one of: pool, reservations, proxy, off"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("state.sqlite")))
    }

    @Test func versionNamesTheLinkedLibraries() async throws {
        let result = try await ChildProcess.run(provision, ["version"])
        #expect(result.status == 0)
        for library in ["libpcap", "ldns", "libsmbclient", "OpenSSL", "SQLite"] {
            #expect(result.output.contains("\(library): "), "\(result.output)")
        }
    }

    @Test func helpListsTheSubcommands() async throws {
        let result = try await ChildProcess.run(provision, ["--help"])
        #expect(result.status == 0)
        for command in ["serve", "validate", "version"] { #expect(result.output.contains(command)) }
    }
}
