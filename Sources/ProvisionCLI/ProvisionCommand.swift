import Foundation
import ArgumentParser
import Provision
import StrictYAML

@main
struct ProvisionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "A network-boot provisioning appliance: DHCP, TFTP, DNS, HTTP boot and workflows in one program.",
        version: ProvisionVersion.string,
        subcommands: [Serve.self, Validate.self, OSISCommand.self, DNSCommand.self, Version.self]
    )
}

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The appliance config file.", valueName: "file"))
    var config: String = GlobalOptions.defaultConfigPath

    static var defaultConfigPath: String {
        ProcessInfo.processInfo.environment["PROVISION_CONFIG"] ?? "/etc/provision/appliance.yaml"
    }

    /// Loads the config, or prints every problem as FILE:LINE:COLUMN and exits with status 1.
    func loadConfig() throws -> ApplianceConfig {
        do {
            return try ApplianceConfig.load(file: config)
        } catch {
            for item in error.items { printError("\(item)") }
            throw ExitCode.failure
        }
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
