import Foundation
import Yams
public import StrictYAML

/// Reads workflow spec files into `WorkflowSpec`s, expanding `include:` entries, and records every
/// problem of shape (unknown keys, wrong types, missing values, YAML syntax) with its FILE:LINE:COLUMN.
/// Meaning (actions, references, the DAG) is checked afterwards by `SpecValidator`.
public struct SpecLoader {
    public let log: DiagnosticLog

    public init(log: DiagnosticLog = DiagnosticLog()) { self.log = log }

    /// Loads one spec file; nil when it cannot be read at all (the reason is in `log`).
    public func load(file: String) -> WorkflowSpec? {
        guard let text = read(file) else { return nil }
        return load(text: text, file: file)
    }

    /// Loads a spec from text; `file` names it in diagnostics and anchors relative includes.
    public func load(text: String, file: String) -> WorkflowSpec? {
        guard let root = YAMLNode.parse(text, file: file, log: log), let map = root.mapping() else { return nil }
        let name = map.required("workflow")?.string()
        let version = map["version"]?.int(in: 1...1_000_000) ?? 1
        let description = map["description"]?.string()
        let timeout = map["timeout"]?.duration()
        let parameters = map["parameters"]?.mapping().map(parameters(from:)) ?? []
        var included: Set<String> = [Self.canonical(file)]
        let steps = map.required("steps").map { self.steps(from: $0, file: file, included: &included) } ?? []
        map.finish()
        guard let name else { return nil }
        if let nameNode = map["workflow"], !Self.isName(name) {
            nameNode.error("workflow name '\(name)' must be letters, digits, '-', '_' or '.'")
        }
        return WorkflowSpec(
            name: name, version: version, description: description, parameters: parameters, steps: steps, timeout: timeout,
            location: root.location)
    }

    private func read(_ file: String) -> String? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            log.append(Diagnostic("cannot read file", at: SourceLocation(file: file, line: 1, column: 1)))
            return nil
        }
        return text
    }

    private func parameters(from map: YAMLMapping) -> [ParameterSpec] {
        var result: [ParameterSpec] = []
        for name in map.keys {
            guard let node = map[name] else { continue }
            if !Self.isName(name) { node.error("parameter name '\(name)' must be letters, digits, '-' or '_'") }
            // `name: string` is shorthand for a required parameter of that type.
            if node.node.scalar != nil {
                if let type = node.oneOf(ValueType.allCases.map(\.rawValue)).flatMap(ValueType.init(rawValue:)) {
                    result.append(ParameterSpec(name: name, type: type, location: node.location))
                }
                continue
            }
            guard let declaration = node.mapping() else { continue }
            let type = declaration.required("type")?.oneOf(ValueType.allCases.map(\.rawValue)).flatMap(ValueType.init(rawValue:))
            let defaultValue = type.flatMap { type in declaration["default"].flatMap { Self.value($0, as: type) } }
            declaration.finish()
            if let type { result.append(ParameterSpec(name: name, type: type, defaultValue: defaultValue, location: node.location)) }
        }
        return result
    }

    private func steps(from node: YAMLNode, file: String, included: inout Set<String>) -> [StepSpec] {
        var result: [StepSpec] = []
        for item in node.list() ?? [] {
            guard let map = item.mapping() else { continue }
            if let include = map["include"] {
                map.finish()
                result += self.include(include, from: file, included: &included)
            } else if let step = step(from: map) {
                result.append(step)
            }
        }
        return result
    }

    /// A step group from another file (`steps:` and an optional `group:` name), relative to `from`.
    private func include(_ node: YAMLNode, from file: String, included: inout Set<String>) -> [StepSpec] {
        guard let path = node.string() else { return [] }
        let target = path.hasPrefix("/") ? path : (file as NSString).deletingLastPathComponent + "/" + path
        let canonical = Self.canonical(target)
        guard !included.contains(canonical) else {
            node.error("'\(path)' is already included: includes form a cycle")
            return []
        }
        guard FileManager.default.fileExists(atPath: target) else {
            node.error("included file '\(path)' does not exist")
            return []
        }
        included.insert(canonical)
        defer { included.remove(canonical) }
        guard let text = read(target), let root = YAMLNode.parse(text, file: target, log: log), let map = root.mapping() else {
            return []
        }
        _ = map["group"]?.string()
        let steps = map.required("steps").map { self.steps(from: $0, file: target, included: &included) } ?? []
        map.finish()
        return steps
    }

    private func step(from map: YAMLMapping) -> StepSpec? {
        let id = map.required("id")?.string()
        let action = map.required("action")?.string()
        var arguments: [String: SpecValue] = [:]
        var argumentLocations: [String: SourceLocation] = [:]
        if let with = map["with"]?.mapping() {
            for key in with.keys {
                guard let valueNode = with[key], let value = Self.untypedValue(valueNode) else { continue }
                arguments[key] = value
                argumentLocations[key] = valueNode.location
            }
            with.finish()
        }
        let needs = map["needs"].map { node in node.node.scalar != nil ? [node.string()].compactMap { $0 } : node.list { $0.string() } ?? [] } ?? []
        var condition: Condition?
        if let whenNode = map["when"], let text = whenNode.string() {
            do { condition = try Condition.parse(text) } catch { whenNode.error("\(error)") }
        }
        let timeout = map["timeout"]?.duration()
        let retry = map["retry"]?.mapping().map(retryPolicy(from:)) ?? RetryPolicy()
        let onFailure = map["on-failure"].flatMap(failurePolicy(from:)) ?? .failRun
        map.finish()
        guard let id, let action else { return nil }
        if let idNode = map["id"], !Self.isName(id) { idNode.error("step id '\(id)' must be letters, digits, '-' or '_'") }
        return StepSpec(
            id: id, action: action, arguments: arguments, needs: needs, condition: condition, timeout: timeout, retry: retry,
            onFailure: onFailure, location: map.owner.location, argumentLocations: argumentLocations)
    }

    private func retryPolicy(from map: YAMLMapping) -> RetryPolicy {
        var policy = RetryPolicy()
        if let attempts = map["attempts"]?.int(in: 1...100) { policy.attempts = attempts }
        if let backoff = map["backoff"]?.duration() { policy.backoff = backoff }
        if let factor = map["factor"]?.int(in: 1...10) { policy.factor = Double(factor) }
        if let maxBackoff = map["max-backoff"]?.duration() { policy.maxBackoff = maxBackoff }
        map.finish()
        return policy
    }

    private func failurePolicy(from node: YAMLNode) -> FailurePolicy? {
        if node.node.scalar != nil {
            switch node.oneOf(["fail", "continue"]) {
            case "fail": return .failRun
            case "continue": return .continue
            default: return nil
            }
        }
        guard let map = node.mapping() else { return nil }
        let steps = map.required("compensate")?.list { $0.string() } ?? []
        map.finish()
        return .compensate(steps)
    }

    /// A literal argument value: its YAML type decides the SpecValue case.
    static func untypedValue(_ node: YAMLNode) -> SpecValue? {
        switch node.node {
        case .sequence:
            return node.list(untypedValue).map(SpecValue.list)
        case .scalar(let scalar) where scalar.style == .plain:
            if let int = Int(scalar.string) { return .int(int) }
            if ["true", "false"].contains(scalar.string) { return .bool(scalar.string == "true") }
            return .string(scalar.string)
        case .scalar(let scalar):
            return .string(scalar.string)
        default:
            node.error("expected a value or a list, found a mapping")
            return nil
        }
    }

    /// A value that must have `type` (parameter defaults).
    static func value(_ node: YAMLNode, as type: ValueType) -> SpecValue? {
        switch type {
        case .string: return node.string().map(SpecValue.string)
        case .int: return node.int().map(SpecValue.int)
        case .bool: return node.bool().map(SpecValue.bool)
        case .duration: return node.duration().map(SpecValue.duration)
        case .list: return node.list(untypedValue).map(SpecValue.list)
        }
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
