import ArgumentParser
import Provision
import StrictYAML
import Workflow

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the config file, or workflow spec files, and report every problem as FILE:LINE:COLUMN: message.",
        discussion: """
            With no FILE, checks the config (and the workflow specs in its 'workflows' directory, and the boot \
            config templates in 'tftp.boot-configs.templates'). With FILEs, \
            checks those spec files: YAML, keys, types, actions and their arguments, references, cycles, \
            unreachable steps. Exits non-zero if anything is wrong.
            """
    )

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Workflow spec files to check.") var files: [String] = []

    func run() async throws {
        if files.isEmpty {
            let config = try options.loadConfig()
            do {
                let catalog = try WorkflowService.loadCatalog(directory: config.workflowsDirectory, actions: ApplianceActions.registry)
                let boot = try BootTemplateSet.load(directory: config.resolve(config.tftp.bootConfigs.templates))
                let targets = boot.map { ", \($0.targets.count) boot target(s)" } ?? ""
                print("\(options.config): ok (\(config.networks.count) network(s), \(catalog.names.count) workflow(s)\(targets))")
            } catch {
                for item in error.items { printError("\(item)") }
                throw ExitCode.failure
            }
            return
        }
        let log = DiagnosticLog()
        let specs = SpecLoader(log: log).loadAndValidate(files: files, actions: ApplianceActions.registry)
        do {
            try log.throwIfAny()
        } catch {
            for item in error.items { printError("\(item)") }
            printError("\(error.items.count) problem(s) in \(files.count) file(s)")
            throw ExitCode.failure
        }
        for spec in specs { print("\(spec.location.file): ok (\(spec.name) v\(spec.version), \(spec.steps.count) steps)") }
    }
}
