public import Foundation
public import OSIS

/// A zone file imported with `provision dns import FILE`: its records as zone-file lines (as ldns printed
/// them), served beside the configured zones. Its id is the apex, lower-cased.
public struct ImportedZone: OSISObject, Hashable {
    public static let kind = "dnszone"
    public static let viewColumns = [ViewColumn("origin"), ViewColumn("records", .integer, field: "count"), ViewColumn("imported", field: "importedAt")]

    public var id: String { origin }
    public var origin: String
    public var lines: [String]
    public var count: Int
    public var importedAt: Date

    public init(origin: String, lines: [String], importedAt: Date = Date()) {
        self.origin = origin
        self.lines = lines
        self.count = lines.count
        self.importedAt = importedAt
    }
}
