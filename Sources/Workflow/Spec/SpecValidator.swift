public import StrictYAML

/// Checks what a spec means, after `SpecLoader` checked its shape: every action exists and gets the
/// arguments it declares, every `${…}` names something that exists when the step runs, the steps form
/// a DAG, and no step is unreachable. Every problem goes to the log with its FILE:LINE:COLUMN.
public struct SpecValidator {
    public let actions: ActionRegistry
    public let log: DiagnosticLog

    public init(actions: ActionRegistry, log: DiagnosticLog) {
        self.actions = actions
        self.log = log
    }

    public func validate(_ spec: WorkflowSpec) {
        let ids = checkIDs(spec)
        let compensation = spec.compensationSteps
        for step in spec.steps {
            for need in step.needs where !ids.contains(need) {
                error("step '\(step.id)' needs '\(need)', which is not a step of this workflow", step.location)
            }
            if case .compensate(let steps) = step.onFailure {
                for target in steps where !ids.contains(target) {
                    error("step '\(step.id)' compensates with '\(target)', which is not a step of this workflow", step.location)
                }
            }
            checkAction(step)
            checkReferences(step, spec: spec)
        }
        if let cycle = findCycle(spec) {
            let first = spec.step(cycle[0])?.location ?? spec.location
            error("steps form a cycle: \(cycle.joined(separator: " → "))", first)
        }
        for step in spec.steps {
            if let condition = step.condition, condition.isConstantlyFalse {
                error("step '\(step.id)' can never run: its condition '\(condition.text)' is always false", step.location)
            }
            // A normal step that waits for a compensation-only step waits forever: it is unreachable.
            if !compensation.contains(step.id) {
                for need in step.needs where compensation.contains(need) {
                    error("step '\(step.id)' is unreachable: it needs '\(need)', which only runs as compensation", step.location)
                }
            }
        }
    }

    private func checkIDs(_ spec: WorkflowSpec) -> Set<String> {
        var ids: Set<String> = []
        for step in spec.steps {
            if !ids.insert(step.id).inserted { error("step id '\(step.id)' is used twice", step.location) }
        }
        var names: Set<String> = []
        for parameter in spec.parameters where !names.insert(parameter.name).inserted {
            error("parameter '\(parameter.name)' is declared twice", parameter.location)
        }
        return ids
    }

    private func checkAction(_ step: StepSpec) {
        guard let action = actions[step.action] else {
            let known = actions.actions.keys.sorted().joined(separator: ", ")
            error("step '\(step.id)': unknown action '\(step.action)' (known: \(known))", step.location)
            return
        }
        let declared = type(of: action).arguments
        for argument in declared where argument.isRequired && step.arguments[argument.name] == nil {
            error("step '\(step.id)': action '\(step.action)' needs argument '\(argument.name)' (\(argument.type.rawValue))", step.location)
        }
        for (name, value) in step.arguments.sorted(by: { $0.key < $1.key }) {
            let location = step.argumentLocations[name] ?? step.location
            guard let argument = declared.first(where: { $0.name == name }) else {
                let allowed = declared.map(\.name).joined(separator: ", ")
                error("step '\(step.id)': action '\(step.action)' has no argument '\(name)' (arguments: \(allowed))", location)
                continue
            }
            if !Self.fits(value, argument.type) {
                error("step '\(step.id)': argument '\(name)' must be \(argument.type.rawValue), found '\(value)'", location)
            }
        }
    }

    /// A literal fits its declared type. YAML reads `30s` as a string, so durations may be written as
    /// text; a string holding `${…}` is converted and checked when the step starts.
    static func fits(_ value: SpecValue, _ type: ValueType) -> Bool {
        if value.type == type { return true }
        guard case .string(let text) = value else { return false }
        if text.contains("${") { return true }
        return type == .duration && DurationFormatting.parse(text) != nil
    }

    private func checkReferences(_ step: StepSpec, spec: WorkflowSpec) {
        let upstream = Self.upstream(of: step.id, in: spec)
        var templates: [(String, SourceLocation)] = []
        for (name, value) in step.arguments {
            for text in Self.strings(in: value) { templates.append((text, step.argumentLocations[name] ?? step.location)) }
        }
        var references = step.condition?.references ?? []
        for (text, location) in templates {
            do {
                references += try Template.parse(text).references
            } catch {
                self.error("step '\(step.id)': \(error)", location)
            }
        }
        for reference in references {
            switch reference {
            case .parameter(let name) where !spec.parameters.contains(where: { $0.name == name }):
                error("step '\(step.id)': '${params.\(name)}' is not a declared parameter", step.location)
            case .output(let other, _) where spec.step(other) == nil:
                error("step '\(step.id)': '${\(reference)}' names no step", step.location)
            case .output(let other, _) where !upstream.contains(other):
                error("step '\(step.id)': '${\(reference)}' is not available: '\(other)' must be in its needs (directly or indirectly)", step.location)
            default:
                break
            }
        }
    }

    static func strings(in value: SpecValue) -> [String] {
        switch value {
        case .string(let text): return [text]
        case .list(let values): return values.flatMap(strings(in:))
        default: return []
        }
    }

    /// Every step `id` depends on, directly or through others.
    static func upstream(of id: String, in spec: WorkflowSpec) -> Set<String> {
        var seen: Set<String> = []
        var stack = spec.step(id)?.needs ?? []
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack += spec.step(next)?.needs ?? []
        }
        return seen
    }

    /// One cycle of `needs`, as step ids (the first repeated at the end), or nil for a DAG.
    func findCycle(_ spec: WorkflowSpec) -> [String]? {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var path: [String] = []
        func visit(_ id: String) -> [String]? {
            if marks[id] == .done { return nil }
            if marks[id] == .visiting, let start = path.firstIndex(of: id) { return Array(path[start...]) + [id] }
            marks[id] = .visiting
            path.append(id)
            for need in spec.step(id)?.needs ?? [] {
                if let cycle = visit(need) { return cycle }
            }
            path.removeLast()
            marks[id] = .done
            return nil
        }
        for step in spec.steps {
            if let cycle = visit(step.id) { return cycle }
        }
        return nil
    }

    private func error(_ message: String, _ location: SourceLocation) {
        log.append(Diagnostic(message, at: location))
    }
}

extension SpecLoader {
    /// Loads and validates spec files; returns the valid specs, and every problem of all files in `log`.
    public func loadAndValidate(files: [String], actions: ActionRegistry) -> [WorkflowSpec] {
        let validator = SpecValidator(actions: actions, log: log)
        var specs: [WorkflowSpec] = []
        for file in files {
            let before = log.items.count
            guard let spec = load(file: file) else { continue }
            validator.validate(spec)
            if log.items.count == before { specs.append(spec) }
        }
        return specs
    }
}
