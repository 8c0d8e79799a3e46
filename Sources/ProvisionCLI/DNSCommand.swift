import ArgumentParser
import Foundation
import OSIS
import Provision

/// `provision dns …`: the DNS zones the appliance serves.
struct DNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Manage the DNS zones the appliance serves.",
        subcommands: [Import.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a zone file (read with ldns); a running appliance serves it within a second.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The zone file (RFC 1035 master file format).") var file: String
        @Option(help: "The origin for relative names when the file has no $ORIGIN.") var origin: String?

        func run() async throws {
            let zone: ImportedZone
            do {
                zone = try ZoneFileImport.read(path: file, origin: origin)
            } catch {
                throw ValidationError("\(file): \(error)")
            }
            let state = try await options.openState()
            _ = try await ObjectStore(kv: state.kv).put(zone)
            print("imported \(zone.origin): \(zone.count) records")
            await state.close()
        }
    }
}
