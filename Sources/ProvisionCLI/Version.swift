import ArgumentParser
import Provision

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version and the system libraries linked in.")

    func run() async throws {
        print("provision \(ProvisionVersion.string)")
        for (name, version) in LinkedLibraries.versions {
            print("  \(name): \(version)")
        }
    }
}
