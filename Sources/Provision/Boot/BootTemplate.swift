import Foundation

/// A boot config template: text with `{{variable}}` parts, rendered per machine when its firmware asks.
///
/// `{{…}}` and not the specs' `${…}`, because iPXE scripts use `${…}` for their own variables
/// (`${net0/mac}`) and must reach the firmware untouched. Variables are checked when the template is
/// loaded, so a typo stops the appliance at start with the file and line, not a machine at boot.
public struct BootTemplate: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case literal(String)
        case variable(String)
    }

    /// What a template may name: `{{mac}}` (`52:54:00:12:34:56`), `{{mac-hyphen}}`, `{{client}}` (the
    /// address asking), `{{target}}` (the boot target), `{{server}}` (the appliance's HTTP base URL),
    /// `{{path}}` (the file asked for), and `{{machine.FIELD}}`: hostname, address, architecture, state,
    /// `facts.KEY`.
    public static let variables: Set<String> = ["mac", "mac-hyphen", "client", "target", "server", "path"]
    public static let machineFields: Set<String> = ["mac", "hostname", "address", "architecture", "state"]

    public var parts: [Part]

    /// Parses `text`; the error names the line and column of the first bad `{{…}}`.
    public init(parsing text: String) throws(BootTemplateError) {
        parts = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            let position = Self.position(of: open.lowerBound, in: text)
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw BootTemplateError(line: position.line, column: position.column, message: "'{{' is not closed")
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard Self.isKnown(name) else {
                let known = (Self.variables.sorted() + ["machine.FIELD"]).joined(separator: ", ")
                throw BootTemplateError(
                    line: position.line, column: position.column, message: "unknown variable '\(name)' (known: \(known))")
            }
            parts.append(.variable(name))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
    }

    /// The text with every variable replaced; a machine field the machine lacks renders empty.
    public func render(_ values: [String: String]) -> String {
        var text = ""
        for part in parts {
            switch part {
            case .literal(let literal): text += literal
            case .variable(let name): text += values[name] ?? ""
            }
        }
        return text
    }

    static func isKnown(_ name: String) -> Bool {
        if variables.contains(name) { return true }
        guard name.hasPrefix("machine.") else { return false }
        let field = name.dropFirst("machine.".count)
        return machineFields.contains(String(field)) || (field.hasPrefix("facts.") && field.count > "facts.".count)
    }

    static func position(of index: String.Index, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for character in text[..<index] {
            if character == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}

public struct BootTemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(line):\(column): \(message)" }
}
