import Foundation

/// What a `${…}` in a spec can name.
public enum Reference: Sendable, Hashable, CustomStringConvertible {
    /// `${params.NAME}`
    case parameter(String)
    /// `${machine.FIELD}`: mac, hostname, address, architecture, or `facts.KEY`.
    case machine(String)
    /// `${steps.ID.outputs.KEY}`
    case output(step: String, key: String)
    /// `${run.id}`, `${run.workflow}`
    case run(String)

    public var description: String {
        switch self {
        case .parameter(let name): return "params.\(name)"
        case .machine(let field): return "machine.\(field)"
        case .output(let step, let key): return "steps.\(step).outputs.\(key)"
        case .run(let field): return "run.\(field)"
        }
    }

    static func parse(_ text: String) -> Reference? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        switch parts.first {
        case "params" where parts.count == 2: return .parameter(parts[1])
        case "machine" where parts.count >= 2: return .machine(parts.dropFirst().joined(separator: "."))
        case "steps" where parts.count == 4 && parts[2] == "outputs": return .output(step: parts[1], key: parts[3])
        case "run" where parts.count == 2 && ["id", "workflow"].contains(parts[1]): return .run(parts[1])
        default: return nil
        }
    }
}

/// A string with `${reference}` parts, resolved when a step starts.
public struct Template: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case literal(String)
        case reference(Reference)
    }

    public var parts: [Part]

    public var references: [Reference] {
        parts.compactMap { if case .reference(let reference) = $0 { reference } else { nil } }
    }

    /// The reference when the whole template is one `${…}`: its value keeps its type (an int stays an int).
    public var soleReference: Reference? {
        if parts.count == 1, case .reference(let reference) = parts[0] { return reference }
        return nil
    }

    /// Parses `text`; throws a message for an unclosed `${` or a reference that names nothing known.
    public static func parse(_ text: String) throws(TemplateError) -> Template {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { throw .unclosed(text) }
            let inner = rest[open.upperBound..<close].trimmingCharacters(in: " ")
            guard let reference = Reference.parse(inner) else { throw .unknownReference(inner) }
            parts.append(.reference(reference))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        return Template(parts: parts)
    }

    /// The value with every reference replaced by `lookup`'s answer.
    public func render(_ lookup: (Reference) throws(TemplateError) -> SpecValue) throws(TemplateError) -> SpecValue {
        if let reference = soleReference { return try lookup(reference) }
        var text = ""
        for part in parts {
            switch part {
            case .literal(let literal): text += literal
            case .reference(let reference): text += try lookup(reference).description
            }
        }
        return .string(text)
    }
}

public enum TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    case unclosed(String)
    case unknownReference(String)
    case unresolved(Reference)

    public var description: String {
        switch self {
        case .unclosed(let text): return "unclosed '${' in '\(text)'"
        case .unknownReference(let text):
            return "'${\(text)}' is not a reference: use params.NAME, machine.FIELD, steps.ID.outputs.KEY or run.id"
        case .unresolved(let reference): return "'${\(reference)}' has no value"
        }
    }
}

/// A step's `when:`: a template that is true, or two templates compared with `==` / `!=`.
public struct Condition: Sendable, Hashable {
    public enum Comparison: String, Sendable, Hashable { case equal = "==", notEqual = "!=" }

    public var left: Template
    public var comparison: Comparison?
    public var right: Template?
    public var text: String

    public static func parse(_ text: String) throws(TemplateError) -> Condition {
        for comparison in [Comparison.equal, .notEqual] {
            if let range = text.range(of: " \(comparison.rawValue) ") {
                return Condition(
                    left: try Template.parse(text[..<range.lowerBound].trimmingCharacters(in: " ")), comparison: comparison,
                    right: try Template.parse(text[range.upperBound...].trimmingCharacters(in: " ")), text: text)
            }
        }
        return Condition(left: try Template.parse(text.trimmingCharacters(in: " ")), comparison: nil, right: nil, text: text)
    }

    public var references: [Reference] { left.references + (right?.references ?? []) }

    /// True when `left` is truthy (true, a non-empty string other than "false" and "0"), or when the
    /// comparison holds on the rendered texts.
    public func evaluate(_ lookup: (Reference) throws(TemplateError) -> SpecValue) throws(TemplateError) -> Bool {
        let value = try left.render(lookup).description
        guard let comparison, let right else { return !["", "false", "0"].contains(value) }
        let other = try right.render(lookup).description
        return comparison == .equal ? value == other : value != other
    }

    /// True when the condition has no references and is false: the step can never run.
    public var isConstantlyFalse: Bool {
        guard references.isEmpty else { return false }
        return (try? evaluate { reference throws(TemplateError) in throw .unresolved(reference) }) == false
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        var text = Substring(self)
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return String(text)
    }
}
