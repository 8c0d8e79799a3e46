/// A place in a YAML source file, printed the way compilers do: `FILE:LINE:COLUMN`.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, in Unicode scalars (libyaml's unit).
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem found in a YAML document, tied to where it is.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ message: String, at location: SourceLocation) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Every problem found in a document, reported together so an operator fixes them in one pass.
public struct Diagnostics: Error, Sendable, CustomStringConvertible {
    public var items: [Diagnostic]

    public init(_ items: [Diagnostic]) { self.items = items }

    public var description: String { items.map(\.description).joined(separator: "\n") }
}

/// Collects diagnostics while a document is read, so reading can go on after the first problem.
///
/// It is a reference type because every `YAMLNode` of one document appends to the same log; it never
/// leaves the task that reads the document.
public final class DiagnosticLog {
    public private(set) var items: [Diagnostic] = []

    public init() {}

    public func append(_ diagnostic: Diagnostic) { items.append(diagnostic) }

    /// Throws every collected diagnostic, sorted by position, if there is any.
    public func throwIfAny() throws(Diagnostics) {
        guard !items.isEmpty else { return }
        throw Diagnostics(items.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) })
    }
}
