public import StrictYAML
public import Workflow

/// A workflow started on a cron schedule (maintenance, re-verification).
public struct ScheduleConfig: Sendable, Hashable {
    public var name: String
    public var workflow: String
    public var cron: CronExpression
    /// With a state, one run per machine in that state; without, one run with no machine.
    public var machines: Machine.State?
    public var parameters: [String: SpecValue]
    public var location: SourceLocation

    public init(
        name: String, workflow: String, cron: CronExpression, machines: Machine.State?, parameters: [String: SpecValue],
        location: SourceLocation
    ) {
        self.name = name
        self.workflow = workflow
        self.cron = cron
        self.machines = machines
        self.parameters = parameters
        self.location = location
    }
}

/// An enrollment rule: a newly discovered machine whose facts match is given this workflow, so
/// unknown machines are provisioned without registering each MAC first. The first matching rule wins.
public struct EnrollmentRule: Sendable, Hashable {
    public var name: String
    public var macPrefix: String?
    public var architecture: String?
    /// Facts the machine must report with these exact values (e.g. `vendor: QEMU`).
    public var facts: [String: String]
    public var workflow: String
    public var parameters: [String: SpecValue]
    public var location: SourceLocation

    public init(
        name: String, macPrefix: String?, architecture: String?, facts: [String: String], workflow: String,
        parameters: [String: SpecValue], location: SourceLocation
    ) {
        self.name = name
        self.macPrefix = macPrefix
        self.architecture = architecture
        self.facts = facts
        self.workflow = workflow
        self.parameters = parameters
        self.location = location
    }

    public func matches(_ machine: Machine) -> Bool {
        if let macPrefix, !machine.mac.hasPrefix(macPrefix.lowercased()) { return false }
        if let architecture, machine.architecture != architecture { return false }
        return facts.allSatisfy { machine.facts[$0.key] == $0.value }
    }
}

extension ScheduleConfig {
    init?(reading map: YAMLMapping) {
        let name = map.required("name")?.string()
        let workflow = map.required("workflow")?.string()
        var cron: CronExpression?
        if let node = map.required("cron"), let text = node.string() {
            do { cron = try CronExpression(text) } catch { node.error("\(error)") }
        }
        let machines = map["machines"]?.oneOf(Machine.State.allCases.map(\.rawValue)).flatMap(Machine.State.init(rawValue:))
        let parameters = map["parameters"]?.mapping().map(Self.parameters(from:)) ?? [:]
        map.finish()
        guard let name, let workflow, let cron else { return nil }
        self.init(name: name, workflow: workflow, cron: cron, machines: machines, parameters: parameters, location: map.owner.location)
    }

    /// Parameter values as YAML gives them; the engine converts them to the declared types.
    static func parameters(from map: YAMLMapping) -> [String: SpecValue] {
        var result: [String: SpecValue] = [:]
        for key in map.keys {
            guard let node = map[key] else { continue }
            if node.isList {
                result[key] = node.list { $0.string().map(SpecValue.string) }.map(SpecValue.list)
            } else if let text = node.string() {
                result[key] = .string(text)
            }
        }
        return result
    }
}

extension EnrollmentRule {
    init?(reading map: YAMLMapping) {
        let name = map.required("name")?.string()
        let workflow = map.required("workflow")?.string()
        var macPrefix: String?
        var architecture: String?
        var facts: [String: String] = [:]
        if let match = map.required("match")?.mapping() {
            macPrefix = match["mac-prefix"]?.string()
            architecture = match["architecture"]?.oneOf(["bios", "uefi-x64", "uefi-arm64", "uefi-http"])
            if let factMap = match["facts"]?.mapping() {
                for key in factMap.keys { facts[key] = factMap[key]?.string() }
                factMap.finish()
            }
            match.finish()
        }
        let parameters = map["parameters"]?.mapping().map(ScheduleConfig.parameters(from:)) ?? [:]
        map.finish()
        guard let name, let workflow else { return nil }
        self.init(
            name: name, macPrefix: macPrefix, architecture: architecture, facts: facts, workflow: workflow, parameters: parameters,
            location: map.owner.location)
    }
}
