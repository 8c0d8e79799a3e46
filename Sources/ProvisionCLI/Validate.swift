import ArgumentParser
import Provision

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the config file and report every problem as FILE:LINE:COLUMN: message."
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let config = try options.loadConfig()
        print("\(options.config): ok (\(config.networks.count) network(s))")
    }
}
