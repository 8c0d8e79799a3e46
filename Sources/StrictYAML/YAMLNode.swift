public import Yams

/// A node of a parsed YAML document that knows where it came from and where to report problems.
///
/// Accessors never throw: a value of the wrong shape records a diagnostic at the node's position and
/// returns nil, so a reader collects every problem of a document in one pass.
public struct YAMLNode {
    public let node: Node
    public let file: String
    public let log: DiagnosticLog
    /// The position to fall back on for nodes libyaml gives no mark (e.g. a missing document).
    let fallback: SourceLocation

    init(node: Node, file: String, log: DiagnosticLog, fallback: SourceLocation) {
        self.node = node
        self.file = file
        self.log = log
        self.fallback = fallback
    }

    /// Parses `text` as one YAML document. A syntax error is recorded (with its position) and yields nil.
    public static func parse(_ text: String, file: String, log: DiagnosticLog) -> YAMLNode? {
        let start = SourceLocation(file: file, line: 1, column: 1)
        do {
            let node = try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
            return YAMLNode(node: node, file: file, log: log, fallback: start)
        } catch let error as YamlError {
            log.append(Self.diagnostic(for: error, file: file))
            return nil
        } catch {
            log.append(Diagnostic("cannot read YAML: \(error)", at: start))
            return nil
        }
    }

    public var location: SourceLocation {
        guard let mark = node.mark else { return fallback }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    /// Records a problem at this node.
    public func error(_ message: String) {
        log.append(Diagnostic(message, at: location))
    }

    /// True for a YAML sequence.
    public var isList: Bool { if case .sequence = node { true } else { false } }

    /// True for a YAML scalar (including null).
    public var isScalar: Bool { if case .scalar = node { true } else { false } }

    /// True for an explicit YAML null (`~`, `null` or an empty value).
    public var isNull: Bool { node.null != nil && node.scalar?.style == .plain }

    /// A short human name for the node's shape, for "expected X, found Y" messages.
    var shapeName: String {
        switch node {
        case .scalar: return isNull ? "null" : "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func child(_ node: Node) -> YAMLNode {
        YAMLNode(node: node, file: file, log: log, fallback: location)
    }

    private static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) \($0.text)" } ?? problem
            return Diagnostic("YAML syntax error: \(detail)", at: at(mark))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic("duplicate key \(duplicates.joined(separator: ", ")) \(context.text)", at: at(context.mark))
        default:
            return Diagnostic("cannot read YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }
}
