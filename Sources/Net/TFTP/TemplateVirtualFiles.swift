import Foundation
public import NIOCore

/// Virtual files from name patterns and text templates.
///
/// A pattern is a file name that may hold one `{mac}`: it matches a MAC address written with `-` or `:`
/// (`pxelinux.cfg/01-{mac}` matches `pxelinux.cfg/01-52-54-00-77-00-01`). The template may use
/// `{{mac}}` (`52:54:00:77:00:01`), `{{mac-hyphen}}` (`52-54-00-77-00-01`), `{{client}}` (the client's IP
/// address) and `{{path}}`. Machine data from OSIS joins these variables once boot configs live there.
public struct TemplateVirtualFiles: VirtualFileProvider {
    public struct Route: Sendable, Hashable {
        public var pattern: String
        public var template: String

        public init(_ pattern: String, _ template: String) {
            self.pattern = pattern
            self.template = template
        }
    }

    public let routes: [Route]

    public init(_ routes: [Route]) { self.routes = routes }

    public func render(_ path: String, for client: SocketAddress) async -> ByteBuffer? {
        for route in routes {
            guard let mac = Self.match(route.pattern, path) else { continue }
            var text = route.template
            text = text.replacingOccurrences(of: "{{mac}}", with: mac ?? "")
            text = text.replacingOccurrences(of: "{{mac-hyphen}}", with: (mac ?? "").replacingOccurrences(of: ":", with: "-"))
            text = text.replacingOccurrences(of: "{{client}}", with: client.ipAddress ?? "")
            text = text.replacingOccurrences(of: "{{path}}", with: path)
            return ByteBuffer(string: text)
        }
        return nil
    }

    /// nil when `path` does not match `pattern`; `.some(nil)` for a match without `{mac}`; else the MAC,
    /// lowercase, colon-separated.
    public static func match(_ pattern: String, _ path: String) -> String?? {
        guard let marker = pattern.range(of: "{mac}") else { return pattern == path ? .some(nil) : nil }
        let prefix = pattern[..<marker.lowerBound]
        let suffix = pattern[marker.upperBound...]
        guard path.hasPrefix(prefix), path.hasSuffix(suffix), path.count == prefix.count + 17 + suffix.count else {
            return nil
        }
        let middle = path.dropFirst(prefix.count).dropLast(suffix.count)
        let octets = middle.split(whereSeparator: { $0 == "-" || $0 == ":" })
        guard octets.count == 6, octets.allSatisfy({ $0.count == 2 && UInt8($0, radix: 16) != nil }) else { return nil }
        return .some(octets.joined(separator: ":").lowercased())
    }
}
