/// The query side of the views: what the REST layer and `provision osis` use.
public struct ViewIndex: Sendable {
    public let views: any ViewStore
    public let definitions: [String: ViewDefinition]

    public init(views: any ViewStore, definitions: [ViewDefinition]) {
        self.views = views
        self.definitions = Dictionary(definitions.map { ($0.kind, $0) }, uniquingKeysWith: { $1 })
    }

    public func query(_ query: ViewQuery) async throws -> ViewPage {
        let definition = try query.validated(against: definitions)
        return try await views.query(query, definition: definition)
    }
}
