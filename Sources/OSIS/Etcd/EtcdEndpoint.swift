import Foundation

/// One etcd client URL, `http://host:port`, as the config lists them.
struct EtcdEndpoint: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int
    /// The URL as given, for error messages.
    var url: String

    /// etcd's registered client port, for a URL that names none.
    static let defaultPort = 2379

    init(parsing url: String) throws(KVError) {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw KVError.invalid("etcd endpoint '\(url)' is not a URL like http://host:2379")
        }
        // TLS would need swift-nio-ssl and client certificates; until an appliance needs it, say so plainly.
        guard components.scheme == "http" else {
            throw KVError.invalid("etcd endpoint '\(url)': only http:// endpoints are supported")
        }
        guard components.path.isEmpty || components.path == "/" else {
            throw KVError.invalid("etcd endpoint '\(url)' must not have a path")
        }
        self.host = host
        self.port = components.port ?? Self.defaultPort
        self.url = url
    }

    var description: String { url }
}
