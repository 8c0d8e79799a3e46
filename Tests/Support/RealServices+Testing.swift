public import Testing

extension RealServices {
    /// Runs `body` with the value of `variable` when it is set. When it is not, the test fails under
    /// `CI=true` and is skipped elsewhere (returns without running `body`), naming the command that
    /// starts `service`.
    public static func with(
        _ variable: String, service: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (String) async throws -> Void
    ) async throws {
        if let why = missing(variable, service: service) {
            if isCI { Issue.record("\(why)", sourceLocation: sourceLocation) }
            return
        }
        try await body(value(variable)!)
    }
}
